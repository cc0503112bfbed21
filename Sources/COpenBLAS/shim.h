// OpenBLAS's C interface (cblas_sgemm and friends, openblas_set_num_threads).
// The include path comes from pkg-config's openblas.pc.
#include <cblas.h>
