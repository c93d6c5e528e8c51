// SPDX-License-Identifier: Apache-2.0
#include "ipvs/stats.hpp"

namespace fulcrum {

#define FULCRUM_STAT_NAME(name) #name,
const char* const kDestStatNames[size_t(DestStat::count)] = {FULCRUM_DEST_STATS(FULCRUM_STAT_NAME)};
const char* const kServiceStatNames[size_t(ServiceStat::count)] = {
    FULCRUM_SERVICE_STATS(FULCRUM_STAT_NAME)};
const char* const kLaddrStatNames[size_t(LaddrStat::count)] = {FULCRUM_LADDR_STATS(FULCRUM_STAT_NAME)};
#undef FULCRUM_STAT_NAME

}  // namespace fulcrum
