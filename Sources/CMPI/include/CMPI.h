// MPI, loaded at run time rather than linked, so that the default build and
// every single-process use need no MPI installation.
//
// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are macros over
// the addresses of exported global objects (`ompi_mpi_comm_world`, …), which
// Swift cannot import; this shim looks the functions and those objects up
// with dlsym and offers plain C functions over them. Only Open MPI's ABI is
// supported: a library without `ompi_mpi_comm_world` (MPICH, whose handles
// are integers) is refused with an error that says so.
//
// Every function returns an MPI error code (0 = success); errors are
// returned, never fatal (the world communicator uses MPI_ERRORS_RETURN).
#ifndef NET2NET_CMPI_H
#define NET2NET_CMPI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    N2N_MPI_FLOAT = 0,
    N2N_MPI_DOUBLE = 1,
    N2N_MPI_BYTE = 2,
    N2N_MPI_INT64 = 3,
} n2n_mpi_type;

typedef enum {
    N2N_MPI_SUM = 0,
    N2N_MPI_MAX = 1,
} n2n_mpi_operation;

/// A nonblocking operation in flight: Open MPI's MPI_Request, a pointer
/// (`struct ompi_request_t *`). MPI sets it to MPI_REQUEST_NULL when the
/// operation completes; waiting on or testing a null request succeeds at once.
typedef void *n2n_mpi_request;

/// Returned when the library could not be loaded (see n2n_mpi_load_error).
#define N2N_MPI_NOT_LOADED (-1)

/// Loads the library once (NET2NET_MPI names a file or soname, else
/// libmpi.so.40, then libmpi.so). 0 on success, else N2N_MPI_NOT_LOADED.
int n2n_mpi_load(void);
/// Why loading failed ("" when it did not).
const char *n2n_mpi_load_error(void);
/// The library that was loaded ("" before).
const char *n2n_mpi_library_path(void);

/// MPI_Init_thread (funneled) once, then MPI_ERRORS_RETURN on the world
/// communicator. Calling it again after success returns 0. Before MPI_Init
/// it sets OMPI_MCA_coll_libnbc_iallreduce_algorithm=3 (reduce-scatter +
/// allgather for MPI_Iallreduce) unless the environment already sets it.
int n2n_mpi_initialize(void);
/// MPI_Finalize, once, if initialised and not yet finalised.
int n2n_mpi_finalize(void);
/// 1 when the library is loaded, MPI initialised and not finalised (never loads it).
int n2n_mpi_active(void);
/// MPI_Abort on the world communicator (ends every process of the job).
int n2n_mpi_abort(int code);

int n2n_mpi_rank(int *rank);
int n2n_mpi_size(int *size);
int n2n_mpi_barrier(void);
/// The root's `count` values replace everyone's.
int n2n_mpi_broadcast(void *buffer, int count, n2n_mpi_type type, int root);
/// In place: every process ends with the element-wise reduction over all processes.
int n2n_mpi_allreduce(void *buffer, int count, n2n_mpi_type type, n2n_mpi_operation operation);
/// MPI_Iallreduce in place: starts the reduction and returns at once. `buffer`
/// must not be read or written until the request completes (wait or test).
int n2n_mpi_iallreduce(void *buffer, int count, n2n_mpi_type type, n2n_mpi_operation operation,
                       n2n_mpi_request *request);
/// MPI_Wait (status ignored): returns when the request has completed.
int n2n_mpi_wait(n2n_mpi_request *request);
/// MPI_Waitall (statuses ignored) over `count` requests.
int n2n_mpi_waitall(int count, n2n_mpi_request *requests);
/// MPI_Testall (statuses ignored): *completed = 1 when every request has
/// completed (and they are then null), else 0. Each call also lets Open MPI
/// advance operations in flight, which it does only inside MPI calls.
int n2n_mpi_testall(int count, n2n_mpi_request *requests, int *completed);
/// Process i's `count` values land at receive + i·count on the root (receive
/// is ignored elsewhere).
int n2n_mpi_gather(const void *send, int count, void *receive, n2n_mpi_type type, int root);
/// Process i's counts[i] values land at receive + displacements[i] on the root.
int n2n_mpi_gatherv(const void *send, int count, void *receive, const int *counts, const int *displacements,
                    n2n_mpi_type type, int root);
/// MPI's own description of an error code.
void n2n_mpi_error_string(int code, char *text, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif
