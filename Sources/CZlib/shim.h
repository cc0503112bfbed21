// zlib, used to read gzip and dictzip (.dz) corpora.
#include <zlib.h>
