# bash completion for wcmem-sandbox                                   -*- shell-script -*-
#
# Options come from `wcmem-sandbox --help` and profile names from `wcmem-sandbox config`, so
# the binary stays the one owner of both. After the command (the first word that is not an
# option, or the word after --), the command's own completion takes over when bash-completion
# is loaded (_command_offset), else file names.
# Installed by `make install` as $(PREFIX)/share/bash-completion/completions/wcmem-sandbox.

# Options that take a value: the next word is that value, not the command.
_wcmem_sandbox_valued='-l|--limit|-t|--test-limit|-s|--swap|--high|--pids-max|-o|--log|-n|--name|-i|--interval|-k|--kill-after|-p|--profile|--config|--tracemalloc|--junit-xml|--json|--html|--budgets|--shard|--shard-log'

# The words before the current one that select a config file, for `config` to read.
_wcmem_sandbox_config_args() {
	local i
	for ((i = 1; i < COMP_CWORD - 1; i++)); do
		case ${COMP_WORDS[i]} in
		--config) printf '%s\n' --config "${COMP_WORDS[i + 1]}" ;;
		--config=*) printf '%s\n' "${COMP_WORDS[i]}" ;;
		esac
	done
}

_wcmem_sandbox() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local bin=${COMP_WORDS[0]} i word
	local -a args
	COMPREPLY=()

	# A subcommand with a front end of its own takes the options its --help lists; then
	# memory logs (files) for analyze and budget, reports for merge, nothing for doctor.
	if [[ ${COMP_WORDS[1]} == @(analyze|budget|doctor|merge) ]] && ((COMP_CWORD > 1)); then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$("$bin" "${COMP_WORDS[1]}" --help 2>/dev/null |
				grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur")
		elif [[ ${COMP_WORDS[1]} != doctor &&
			$prev != @(-m|--margin|-f|--floor|-n|--top|--spike-factor|--spike-floor|--leak-floor) ]]; then
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		return
	fi

	# Past the command: complete as the command would.
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if [[ $word == -- ]]; then
			((i++))
			break
		elif [[ $word == @($_wcmem_sandbox_valued) ]]; then
			((i++))
		elif [[ $word != -* ]]; then
			[[ $word == config && $i -eq 1 ]] && continue
			break
		fi
	done
	if ((i < COMP_CWORD)) || [[ ${COMP_WORDS[i - 1]} == -- && $i -eq $COMP_CWORD ]]; then
		if declare -F _command_offset >/dev/null; then
			_command_offset "$i"
		elif ((i == COMP_CWORD)); then
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		return
	fi

	case $prev in
	-p | --profile)
		mapfile -t args < <(_wcmem_sandbox_config_args)
		mapfile -t COMPREPLY < <(compgen -W "$("$bin" config "${args[@]}" 2>/dev/null |
			sed -n 's/^; profiles: *//p')" -- "$cur")
		return
		;;
	-o | --log | --config | --junit-xml | --json | --html | --budgets | --shard-log)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	-l | --limit | -t | --test-limit | -s | --swap | --high)
		mapfile -t COMPREPLY < <(compgen -W "512M 1G 2G 4G 8G 50% max" -- "$cur")
		return
		;;
	-i | --interval | -k | --kill-after)
		mapfile -t COMPREPLY < <(compgen -W "100ms 1s 10s 1m" -- "$cur")
		return
		;;
	--pids-max)
		mapfile -t COMPREPLY < <(compgen -W "1024 4096 16384 max" -- "$cur")
		return
		;;
	-n | --name | --tracemalloc)
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$("$bin" --help 2>/dev/null |
			grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur")
	elif ((COMP_CWORD == 1)); then
		# The subcommands: the usage lines of --help that name one.
		mapfile -t COMPREPLY < <(compgen -c -W "$("$bin" --help 2>/dev/null |
			sed -n 's/^ *wcmem-sandbox \([a-z][a-z]*\) .*/\1/p')" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -c -- "$cur")
	fi
}
complete -F _wcmem_sandbox wcmem-sandbox
