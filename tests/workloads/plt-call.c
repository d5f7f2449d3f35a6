/* A library whose calls to libc pass through its PLT (t3027). */
#include <unistd.h>

int plt_call(void)
{
	return (int)getpid() + (int)getppid();
}
