#pragma once

// Everything an application needs: include this one header.
#include "tiercache/cache.h"
#include "tiercache/clock.h"
#include "tiercache/entry.h"
#include "tiercache/events.h"
#include "tiercache/loader.h"
#include "tiercache/options.h"
#include "tiercache/policies.h"
#include "tiercache/stats.h"
#include "tiercache/status.h"
