/*
 * An rtld-audit library (see rtld-audit(7)) that records, at run time, each
 * pcmoe_ function a program calls. With lazy binding, the dynamic linker
 * binds a function on its first call, so every name it reports was called
 * at least once. Names go, one per line, to the file named by the
 * environment variable PCMOE_CALL_LOG.
 *
 *   LD_AUDIT=call_audit.so PCMOE_CALL_LOG=calls.txt ./abi_test
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned int la_version(unsigned int version) {
    (void)version;
    return LAV_CURRENT;
}

unsigned int la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie) {
    (void)map, (void)lmid, (void)cookie;
    return LA_FLG_BINDTO | LA_FLG_BINDFROM;
}

uintptr_t la_symbind64(Elf64_Sym *symbol, unsigned int index, uintptr_t *from, uintptr_t *to, unsigned int *flags,
                       const char *name) {
    (void)index, (void)from, (void)to, (void)flags;
    const char *path = getenv("PCMOE_CALL_LOG");
    if (path != NULL && strncmp(name, "pcmoe_", 6) == 0) {
        int file = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (file >= 0) {
            ssize_t written = write(file, name, strlen(name));
            written += write(file, "\n", 1);
            (void)written;
            close(file);
        }
    }
    return symbol->st_value;
}
