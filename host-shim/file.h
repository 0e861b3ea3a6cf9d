/* file.h -- whole files into memory. */
#ifndef LBS_FILE_H
#define LBS_FILE_H

#include <stddef.h>

/* The most file_read takes: configs, fleets, test streams and import
 * documents are read whole, and nothing the shim or nginx loads should come
 * near it (100,000 simulated tests are about 20 MiB), so a bigger file is a
 * mistake or an attack, not a workload. */
#define FILE_MAX_BYTES (256u << 20)

/* The whole file (or stdin for "-") in a NUL-terminated malloc'd buffer;
 * NULL with "<path>: <problem>" in err, among them a file of more than
 * FILE_MAX_BYTES. */
char *file_read(const char *path, size_t *len, char *err, size_t errlen);

#endif
