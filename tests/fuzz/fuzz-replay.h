/* fuzz-replay.h — the corpus replayer every fuzz target shares when it is
 * built without libFuzzer (MC_FUZZING unset): fuzz_replay() feeds each file
 * named, and each regular file of each directory named, to
 * LLVMFuzzerTestOneInput. Include after LLVMFuzzerTestOneInput is declared. */
#ifndef FUZZ_REPLAY_H
#define FUZZ_REPLAY_H

#ifndef MC_FUZZING
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

/* Replay argv[1..argc): the number of inputs run, or -1 (a file that cannot
 * be read; the message is on stderr). */
static int fuzz_replay(int argc, char **argv)
{
	int i, files = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		struct dirent *e;
		DIR *d;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: cannot stat\n", argv[i]);
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (fuzz_run_file(argv[i]) != 0)
				return -1;
			files++;
			continue;
		}
		if (!(d = opendir(argv[i])))
			return -1;
		while ((e = readdir(d)) != NULL) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (fuzz_run_file(path) != 0) {
				fprintf(stderr, "%s: cannot read\n", path);
				closedir(d);
				return -1;
			}
			files++;
		}
		closedir(d);
	}
	return files;
}
#endif

#endif
