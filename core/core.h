/* core.h — the public face of core/: include this from other modules. */
#ifndef MC_CORE_H
#define MC_CORE_H

#include "mc-error.h"
#include "mc-limits.h"
#include "mc-buf.h"
#include "mc-date.h"
#include "mc-hash.h"
#include "mc-varint.h"
#include "mc-record.h"
#include "mc-text.h"
#include "mc-extract.h"
#include "mc-store.h"
#include "mc-config.h"
#include "mc-output.h"
#include "mc-lock.h"

#endif
