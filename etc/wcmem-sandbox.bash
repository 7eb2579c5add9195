# bash completion for wcmem-sandbox                                   -*- shell-script -*-
#
# Options, and the kind of value each takes, come from `wcmem-sandbox [SUBCOMMAND] --help`
# and profile names from `wcmem-sandbox config`, so the binary stays the one owner of both. After the command (the first word that is not an
# option, or the word after --), the command's own completion takes over when bash-completion
# is loaded (_command_offset), else file names.
# Installed by `make install` as $(PREFIX)/share/bash-completion/completions/wcmem-sandbox.

# The options a --help lists (`wcmem-sandbox [SUBCOMMAND] --help`), one a line, each with
# the value it takes as the help names it (SIZE, FILE, DURATION, N|max...) or "-": read
# from the help's option lines ("  -l, --limit SIZE  ...", "      --no-append, --no-quiet"),
# so that completion and --help cannot drift apart.
_wcmem_sandbox_options() {
	"$@" --help 2>/dev/null | awk '/^ +-/ {
		n = 0; value = "-"
		for (i = 1; i <= NF; i++) {
			w = $i; sub(/,$/, "", w)
			if (w ~ /^-/) { opt[++n] = w; continue }
			if (w ~ /^[A-Z]/) value = w
			break
		}
		for (j = 1; j <= n; j++) print opt[j], value
	}'
}

# The value the option $2 takes in the options list $1 (see above), or "" when it takes none.
_wcmem_sandbox_value_of() {
	local opt value
	while read -r opt value; do
		[[ $opt == "$2" && $value != - ]] && { printf '%s\n' "$value"; return; }
	done <<<"$1"
}

# Offers what a value of the kind the help names may be.
_wcmem_sandbox_complete_value() {
	case $1 in
	FILE | LOG) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	SIZE) mapfile -t COMPREPLY < <(compgen -W "512M 1G 2G 4G 8G 50% max" -- "$cur") ;;
	DURATION) mapfile -t COMPREPLY < <(compgen -W "100ms 1s 10s 1m" -- "$cur") ;;
	'N|max') mapfile -t COMPREPLY < <(compgen -W "1024 4096 16384 max" -- "$cur") ;;
	esac  # NAME, N, PCT...: nothing to offer
}

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
	local bin=${COMP_WORDS[0]} i word value options sub=
	local -a args
	COMPREPLY=()

	# A subcommand with a front end of its own takes the options its --help lists; then
	# memory logs (files) for analyze and budget, reports for merge, nothing for doctor.
	if [[ ${COMP_WORDS[1]} == @(analyze|budget|doctor|merge) ]] && ((COMP_CWORD > 1)); then
		sub=${COMP_WORDS[1]}
		options=$(_wcmem_sandbox_options "$bin" "$sub")
		value=$(_wcmem_sandbox_value_of "$options" "$prev")
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(cut -d' ' -f1 <<<"$options" |
				grep -- '^--' | sort -u)" -- "$cur")
		elif [[ -n $value ]]; then
			_wcmem_sandbox_complete_value "$value"
		elif [[ $sub != doctor ]]; then
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		return
	fi

	# Past the command: complete as the command would.
	options=$(_wcmem_sandbox_options "$bin")
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if [[ $word == -- ]]; then
			((i++))
			break
		elif [[ $word == -* ]]; then
			[[ -n $(_wcmem_sandbox_value_of "$options" "$word") ]] && ((i++))
		else
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

	value=$(_wcmem_sandbox_value_of "$options" "$prev")
	if [[ $prev == @(-p|--profile) ]]; then
		mapfile -t args < <(_wcmem_sandbox_config_args)
		mapfile -t COMPREPLY < <(compgen -W "$("$bin" config "${args[@]}" 2>/dev/null |
			sed -n 's/^; profiles: *//p')" -- "$cur")
	elif [[ -n $value ]]; then
		_wcmem_sandbox_complete_value "$value"
	elif [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(cut -d' ' -f1 <<<"$options" |
			grep -- '^--' | sort -u)" -- "$cur")
	elif ((COMP_CWORD == 1)); then
		# The subcommands: the usage lines of --help that name one.
		mapfile -t COMPREPLY < <(compgen -c -W "$("$bin" --help 2>/dev/null |
			sed -n 's/^ *wcmem-sandbox \([a-z][a-z]*\) .*/\1/p')" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -c -- "$cur")
	fi
}
complete -F _wcmem_sandbox wcmem-sandbox
