// zlib (Debian: zlib1g-dev) for gzip streams: inflate and deflate with a gzip
// wrapper. Named apart from ZIPFoundation's own CZlib module, which would clash.
#include <zlib.h>
