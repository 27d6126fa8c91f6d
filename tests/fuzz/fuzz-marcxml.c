/* fuzz-marcxml.c — fuzz target: MARCXML (collection or bare record, optionally in an OAI-PMH envelope). */
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse(data, size, MC_IN_MARCXML);
	return 0;
}
