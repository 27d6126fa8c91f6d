/* fuzz-oai.c — fuzz target: OAI-PMH responses (oai_dc or MARCXML metadata, Identify, errors, tokens). */
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse(data, size, MC_IN_XML);
	return 0;
}
