/* A getaddrinfo that never answers for hosts ending in ".hang.test" (it sleeps a minute), and
 * asks the real one otherwise: LD_PRELOADed by a CLI test, it stands in for a DNS server that does
 * not answer. Built by the test itself with the system's C compiler. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints, struct addrinfo** res)
{
    static int (*real)(const char*, const char*, const struct addrinfo*, struct addrinfo**);
    const char suffix[] = ".hang.test";
    size_t length = node ? strlen(node) : 0;
    if (length >= sizeof suffix - 1 && strcmp(node + length - (sizeof suffix - 1), suffix) == 0)
    {
        sleep(60);
        return EAI_AGAIN;
    }
    if (!real)
        real = (int (*)(const char*, const char*, const struct addrinfo*, struct addrinfo**))dlsym(RTLD_NEXT, "getaddrinfo");
    return real(node, service, hints, res);
}
