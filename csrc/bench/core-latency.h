// Core-to-core latency probe: how long one cache line takes to travel between two cores.
//
// On the cloud VMs this project is measured on, the two vCPUs sometimes share a CCX (one
// L3; ~60-80 ns round trip) and sometimes sit on different dies (~330-380 ns), for
// seconds to minutes at a time. fastconv's 2-thread speed depends on it far more than its
// 1-thread speed does, so the benchmarks report it next to their tables (bench/RESULTS.md).
#pragma once

namespace fc {

// Median round trip in nanoseconds of one value bounced between two threads pinned to two
// different CPUs of this process's affinity set; 0 if the process may use fewer than two.
double measure_core_latency(double seconds);

}  // namespace fc
