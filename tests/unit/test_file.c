/* Opening report files where others can plant links (report/file.c): links and planted files
 * in a world-writable sticky folder are refused with a clear error, and their targets are
 * left untouched; folders are created as asked; a FIFO without a reader fails at once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/file.h"
#include "unit.h"

#define OTHER_UID 65534  /* nobody: a user that is not us */

static char tmpdir[64];
static char shared[96];   /* tmpdir/shared, mode 1777 as /tmp */
static char target[96];   /* tmpdir/target: what a planted link points to */

static int setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/wcmem-test-file-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(shared, sizeof(shared), "%s/shared", tmpdir);
	snprintf(target, sizeof(target), "%s/target", tmpdir);
	if (mkdir(shared, 0777) < 0 || chmod(shared, 01777) < 0)
		return -1;
	FILE *f = fopen(target, "we");

	if (!f)
		return -1;
	fputs("precious\n", f);
	return fclose(f);
}

static int teardown(void **state)
{
	(void)state;
	return unit_remove_tree(tmpdir);
}

/* Makes path's owner another user, as if they had planted it; skips without root. */
static void plant_as_other(const char *path)
{
	if (lchown(path, OTHER_UID, OTHER_UID) < 0) {
		if (errno == EPERM)
			skip();  /* only root can make a file another user's */
		fail_msg("lchown %s: %s", path, strerror(errno));
	}
}

static void expect_refused(const char *path, enum rep_dirs dirs, int err, const char *msg)
{
	struct wc_error e = { 0 };
	int fd = rep_file_open(path, 0, dirs, &e);

	if (fd >= 0)
		fail_msg("%s was opened, want the error \"%s\"", path, msg);
	assert_int_equal(fd, -err);
	assert_int_equal(e.err, err);
	assert_string_equal(e.msg, msg);
	assert_true(e.hint[0] != '\0');  /* and what to do about it */
}

/* Opens path as ours, and closes it. */
static void expect_opened(const char *path, enum rep_dirs dirs)
{
	struct wc_error e = { 0 };
	int fd = rep_file_open(path, 0, dirs, &e);

	if (fd < 0)
		fail_msg("open %s: %s (errno %d)", path, e.msg, e.err);
	close(fd);
}

static void expect_target_untouched(void)
{
	char *text = unit_read_file(target);

	assert_non_null(text);
	assert_string_equal(text, "precious\n");
	free(text);
}

/* The file itself is never a link, whoever made it and wherever it is. */
static void test_file_never_follows_a_link_to_the_file(void **state)
{
	char link[128], msg[256];

	(void)state;
	snprintf(link, sizeof(link), "%s/report.json", shared);
	assert_int_equal(symlink(target, link), 0);
	snprintf(msg, sizeof(msg), "open %s (a symbolic link: not followed)", link);
	expect_refused(link, REP_DIRS_ALL, ELOOP, msg);
	snprintf(link, sizeof(link), "%s/mine.log", tmpdir);  /* in our own folder too */
	assert_int_equal(symlink(target, link), 0);
	snprintf(msg, sizeof(msg), "open %s (a symbolic link: not followed)", link);
	expect_refused(link, REP_DIRS_PARENT, ELOOP, msg);
	expect_target_untouched();
}

/* A folder link that another user planted in a sticky world-writable folder is not
 * followed; one we made is. */
static void test_file_follows_folder_links_only_when_not_planted(void **state)
{
	char link[128], path[160], msg[256];

	(void)state;
	snprintf(link, sizeof(link), "%s/build", shared);
	assert_int_equal(symlink(tmpdir, link), 0);
	snprintf(path, sizeof(path), "%s/target", link);
	expect_opened(path, REP_DIRS_NONE);  /* ours: followed */
	plant_as_other(link);
	snprintf(msg, sizeof(msg), "follow %s, a link that user %d made in a world-writable "
		 "sticky folder", link, OTHER_UID);
	expect_refused(path, REP_DIRS_ALL, EPERM, msg);
	expect_target_untouched();
}

/* A file another user put in a sticky world-writable folder, or a second name (hard link)
 * of a file, is not written to. */
static void test_file_refuses_planted_files(void **state)
{
	char path[128], msg[256];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/hard.xml", shared);
	assert_int_equal(link(target, path), 0);
	snprintf(msg, sizeof(msg), "write %s, which has 2 names (hard links) in a world-writable "
		 "sticky folder", path);
	expect_refused(path, REP_DIRS_NONE, EPERM, msg);
	expect_target_untouched();

	snprintf(path, sizeof(path), "%s/theirs.log", shared);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	assert_true(fd >= 0);
	close(fd);
	expect_opened(path, REP_DIRS_NONE);  /* ours: fine */
	plant_as_other(path);
	snprintf(msg, sizeof(msg), "write %s, which user %d owns in a world-writable sticky "
		 "folder", path, OTHER_UID);
	expect_refused(path, REP_DIRS_NONE, EPERM, msg);
}

/* Folders: every missing one (REP_DIRS_ALL), the file's own only (PARENT), or none. */
static void test_file_creates_folders_as_asked(void **state)
{
	struct wc_error e = { 0 };
	char path[160], msg[256];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/a/b/c.json", tmpdir);
	snprintf(msg, sizeof(msg), "create folder %s/a", tmpdir);
	assert_int_equal(rep_file_open(path, 0, REP_DIRS_PARENT, &e), -ENOENT);
	assert_string_equal(e.msg, msg);
	assert_int_equal(rep_file_open(path, 0, REP_DIRS_NONE, &e), -ENOENT);
	expect_opened(path, REP_DIRS_ALL);
	snprintf(path, sizeof(path), "%s/a/b", tmpdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	snprintf(path, sizeof(path), "%s/a/d/e.log", tmpdir);
	expect_opened(path, REP_DIRS_PARENT);
}

/* A FIFO: an error at once when no one reads it, written when someone does. */
static void test_file_fifo_needs_a_reader(void **state)
{
	char path[128];
	struct wc_error e = { 0 };
	int reader, fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(rep_file_open(path, O_APPEND, REP_DIRS_NONE, &e), -ENXIO);
	assert_non_null(strstr(e.hint, "no process reads"));
	reader = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(reader >= 0);
	fd = rep_file_open(path, O_APPEND, REP_DIRS_NONE, &e);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);  /* writes wait for the reader */
	assert_int_equal(write(fd, "x\n", 2), 2);
	close(fd);
	close(reader);
}

/* Files read whole: a regular file is opened; a FIFO (even one nobody writes) and a folder
 * are refused at once with what they are. */
static void test_file_open_read_takes_regular_files_only(void **state)
{
	struct wc_error e = { 0 };
	char path[128], msg[256];
	int fd;

	(void)state;
	fd = rep_file_open_read(target, "config file", &e);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(rep_file_open_read(path, "memory log", &e), -EINVAL);
	assert_int_equal(e.err, 0);
	snprintf(msg, sizeof(msg), "%s: cannot read the memory log: it is a FIFO, not a regular "
		 "file", path);
	assert_string_equal(e.msg, msg);
	assert_non_null(strstr(e.hint, "wait forever"));
	assert_int_equal(rep_file_open_read(tmpdir, "memory log", &e), -EISDIR);
	snprintf(path, sizeof(path), "%s/none", tmpdir);
	assert_int_equal(rep_file_open_read(path, "memory log", &e), -ENOENT);
	snprintf(msg, sizeof(msg), "%s: cannot read the memory log", path);
	assert_string_equal(e.msg, msg);
}

/* The folder handed back is the one walked: a file made in it lands there even after the
 * folder's path has been swapped for a link elsewhere. */
static void test_file_open_at_keeps_the_folder(void **state)
{
	struct wc_error e = { 0 };
	char dir[128], moved[128], path[160], made[160];
	int fd, folder = -1, made_fd;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/logs", tmpdir);
	snprintf(moved, sizeof(moved), "%s/logs.moved", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/m.log", dir);
	fd = rep_file_open_at(path, O_APPEND, REP_DIRS_NONE, &folder, &e);
	assert_true(fd >= 0);
	assert_true(folder >= 0);
	assert_int_equal(rename(dir, moved), 0);
	assert_int_equal(symlink(shared, dir), 0);  /* the path now leads elsewhere */
	made_fd = openat(folder, "new", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(made_fd >= 0);
	close(made_fd);
	snprintf(made, sizeof(made), "%s/new", moved);
	assert_int_equal(access(made, F_OK), 0);
	snprintf(made, sizeof(made), "%s/new", shared);
	assert_int_equal(access(made, F_OK), -1);
	close(folder);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_never_follows_a_link_to_the_file,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_follows_folder_links_only_when_not_planted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_refuses_planted_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_creates_folders_as_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_fifo_needs_a_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_open_read_takes_regular_files_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_open_at_keeps_the_folder, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
