// SPDX-License-Identifier: Apache-2.0
#include "engine/counters.hpp"

namespace fulcrum {

const char* const kCounterNames[kCounterCount] = {
#define FULCRUM_COUNTER_NAME(name) #name,
    FULCRUM_COUNTERS(FULCRUM_COUNTER_NAME)
#undef FULCRUM_COUNTER_NAME
};

}  // namespace fulcrum
