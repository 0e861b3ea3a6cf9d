/* file.h -- whole files into memory. */
#ifndef LBS_FILE_H
#define LBS_FILE_H

#include <stddef.h>

/* The whole file (or stdin for "-") in a NUL-terminated malloc'd buffer;
 * NULL with "<path>: <problem>" in err. */
char *file_read(const char *path, size_t *len, char *err, size_t errlen);

#endif
