/* fuzz-iso2709.c — fuzz target: ISO 2709. */
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse(data, size, MC_IN_ISO2709);
	return 0;
}
