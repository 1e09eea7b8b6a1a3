using System.Runtime.InteropServices;

namespace EventLoop.Interop;

// The calling thread's stack (Linux, glibc or musl): pthread_getattr_np fills an attribute object
// with the thread's actual stack (for the main thread, the mapping grown so far up to the stack
// limit), and pthread_attr_getstack reads its lowest address and size.
internal static unsafe partial class Libc
{
    // pthread_attr_t is 56 bytes on x86-64 and 64 on arm64 (glibc); musl's is smaller.
    private const int PthreadAttrBytes = 128;

    [LibraryImport(LibraryName, EntryPoint = "pthread_self")]
    private static partial nuint PthreadSelf();

    [LibraryImport(LibraryName, EntryPoint = "pthread_getattr_np")]
    private static partial int PthreadGetAttrNp(nuint thread, void* attr);

    [LibraryImport(LibraryName, EntryPoint = "pthread_attr_getstack")]
    private static partial int PthreadAttrGetStack(void* attr, nuint* stackAddress, nuint* stackSize);

    [LibraryImport(LibraryName, EntryPoint = "pthread_attr_destroy")]
    private static partial int PthreadAttrDestroy(void* attr);

    /// <summary>The calling thread's stack as its lowest address and size; (0, 0) when unknown.</summary>
    internal static (nuint Low, nuint Size) GetCurrentThreadStack()
    {
        if (!OperatingSystem.IsLinux())
        {
            return (0, 0);
        }

        try
        {
            byte* attr = stackalloc byte[PthreadAttrBytes];
            if (PthreadGetAttrNp(PthreadSelf(), attr) != 0)
            {
                return (0, 0);
            }

            nuint low = 0;
            nuint size = 0;
            int result = PthreadAttrGetStack(attr, &low, &size);
            PthreadAttrDestroy(attr);
            return result == 0 ? (low, size) : (0, 0);
        }
        catch (EntryPointNotFoundException)
        {
            return (0, 0); // a C library without pthread_getattr_np: the thread-id check alone
        }
    }
}
