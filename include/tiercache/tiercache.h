#pragma once

// Everything an application needs: include this one header.
#include "tiercache/clock.h"
#include "tiercache/entry.h"
#include "tiercache/options.h"
#include "tiercache/policies.h"
#include "tiercache/status.h"
