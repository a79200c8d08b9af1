/* A stand-in for bcryptprimitives.dll under Wine 8 (Debian 12), which lacks ProcessPrng:
 * Rust's standard library imports it on Windows for its random numbers, so a Rust Windows
 * binary does not even start without it. scripts/windows builds this with mingw-w64 and
 * places it beside seedc.exe, for the tests only; it is never shipped. ProcessPrng fills
 * the buffer from RtlGenRandom (advapi32's SystemFunction036), the generator it replaced. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
