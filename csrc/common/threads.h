// Thread count used by every parallel loop of the engine.
#pragma once

namespace fc {

// FASTCONV_NUM_THREADS if set, else the cores this process may run on.
int num_threads();
void set_num_threads(int n);  // n >= 1

}  // namespace fc
