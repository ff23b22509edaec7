// Open MPI loaded with dlopen (see CMPI.h). Its handles are the addresses of
// exported objects, so `&ompi_mpi_float` is exactly what MPI_FLOAT expands to
// in a program compiled against mpi.h; MPI_IN_PLACE is (void *)1 there.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "CMPI.h"

typedef void *handle_t;  // MPI_Comm, MPI_Datatype, MPI_Op, MPI_Errhandler in Open MPI

typedef int (*init_thread_fn)(int *, char ***, int, int *);
typedef int (*flag_fn)(int *);
typedef int (*plain_fn)(void);
typedef int (*comm_int_fn)(handle_t, int *);
typedef int (*comm_fn)(handle_t);
typedef int (*abort_fn)(handle_t, int);
typedef int (*bcast_fn)(void *, int, handle_t, int, handle_t);
typedef int (*allreduce_fn)(const void *, void *, int, handle_t, handle_t, handle_t);
typedef int (*iallreduce_fn)(const void *, void *, int, handle_t, handle_t, handle_t, n2n_mpi_request *);
typedef int (*wait_fn)(n2n_mpi_request *, void *);
typedef int (*waitall_fn)(int, n2n_mpi_request *, void *);
typedef int (*testall_fn)(int, n2n_mpi_request *, int *, void *);
typedef int (*gather_fn)(const void *, int, handle_t, void *, int, handle_t, int, handle_t);
typedef int (*gatherv_fn)(const void *, int, handle_t, void *, const int *, const int *, handle_t, int, handle_t);
typedef int (*set_errhandler_fn)(handle_t, handle_t);
typedef int (*error_string_fn)(int, char *, int *);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int load_status = N2N_MPI_NOT_LOADED;
static char load_error[1024];
static char library_path[1024];

static struct {
    init_thread_fn init_thread;
    flag_fn initialized, finalized;
    plain_fn finalize;
    comm_int_fn comm_rank, comm_size;
    comm_fn barrier;
    abort_fn abort;
    bcast_fn bcast;
    allreduce_fn allreduce;
    iallreduce_fn iallreduce;
    wait_fn wait;
    waitall_fn waitall;
    testall_fn testall;
    gather_fn gather;
    gatherv_fn gatherv;
    set_errhandler_fn set_errhandler;
    error_string_fn error_string;
    handle_t comm_world, errors_return;
    handle_t types[4];
    handle_t operations[2];
} mpi;

static void *in_place = (void *)1;
// MPI_STATUS_IGNORE and MPI_STATUSES_IGNORE are null pointers in Open MPI.
static void *status_ignore = NULL;

static void load(void) {
    const char *override = getenv("NET2NET_MPI");
    const char *defaults[] = {"libmpi.so.40", "libmpi.so", NULL};
    const char *single[] = {override, NULL};
    const char **names = (override && *override) ? single : defaults;
    void *handle = NULL;
    // RTLD_GLOBAL: Open MPI's own plugins (mca_*.so) resolve symbols of libmpi.
    for (const char **name = names; *name && !handle; name++) {
        handle = dlopen(*name, RTLD_NOW | RTLD_GLOBAL);
        if (handle) snprintf(library_path, sizeof library_path, "%s", *name);
    }
    if (!handle) {
        snprintf(load_error, sizeof load_error,
                 "could not load the MPI library (%s): %s; install Open MPI (apt-get install openmpi-bin "
                 "libopenmpi-dev, or scripts/build-distributed) or point NET2NET_MPI at libmpi.so.40",
                 names[0], dlerror());
        return;
    }
    if (!dlsym(handle, "ompi_mpi_comm_world")) {
        snprintf(load_error, sizeof load_error,
                 "%s is not Open MPI (no ompi_mpi_comm_world): only Open MPI's ABI is supported (MPICH is not)",
                 library_path);
        return;
    }
#define SYMBOL(field, name)                                                                              \
    do {                                                                                                 \
        *(void **)&mpi.field = dlsym(handle, name);                                                      \
        if (!mpi.field) {                                                                                \
            snprintf(load_error, sizeof load_error, "%s lacks the symbol %s", library_path, name);       \
            return;                                                                                      \
        }                                                                                                \
    } while (0)
    SYMBOL(init_thread, "MPI_Init_thread");
    SYMBOL(initialized, "MPI_Initialized");
    SYMBOL(finalized, "MPI_Finalized");
    SYMBOL(finalize, "MPI_Finalize");
    SYMBOL(comm_rank, "MPI_Comm_rank");
    SYMBOL(comm_size, "MPI_Comm_size");
    SYMBOL(barrier, "MPI_Barrier");
    SYMBOL(abort, "MPI_Abort");
    SYMBOL(bcast, "MPI_Bcast");
    SYMBOL(allreduce, "MPI_Allreduce");
    SYMBOL(iallreduce, "MPI_Iallreduce");
    SYMBOL(wait, "MPI_Wait");
    SYMBOL(waitall, "MPI_Waitall");
    SYMBOL(testall, "MPI_Testall");
    SYMBOL(gather, "MPI_Gather");
    SYMBOL(gatherv, "MPI_Gatherv");
    SYMBOL(set_errhandler, "MPI_Comm_set_errhandler");
    SYMBOL(error_string, "MPI_Error_string");
    SYMBOL(comm_world, "ompi_mpi_comm_world");
    SYMBOL(errors_return, "ompi_mpi_errors_return");
    SYMBOL(types[N2N_MPI_FLOAT], "ompi_mpi_float");
    SYMBOL(types[N2N_MPI_DOUBLE], "ompi_mpi_double");
    SYMBOL(types[N2N_MPI_BYTE], "ompi_mpi_byte");
    SYMBOL(types[N2N_MPI_INT64], "ompi_mpi_int64_t");
    SYMBOL(operations[N2N_MPI_SUM], "ompi_mpi_op_sum");
    SYMBOL(operations[N2N_MPI_MAX], "ompi_mpi_op_max");
#undef SYMBOL
    load_status = 0;
}

int n2n_mpi_load(void) {
    pthread_once(&load_once, load);
    return load_status;
}

const char *n2n_mpi_load_error(void) { return load_error; }
const char *n2n_mpi_library_path(void) { return load_status == 0 ? library_path : ""; }

#define REQUIRE_LOADED() \
    if (n2n_mpi_load() != 0) return N2N_MPI_NOT_LOADED

int n2n_mpi_initialize(void) {
    REQUIRE_LOADED();
    pthread_mutex_lock(&init_lock);
    int done = 0, status = mpi.initialized(&done);
    if (status == 0 && !done) {
        // Open MPI's libnbc picks a binomial tree (reduce to one process, then
        // broadcast) for every in-place MPI_Iallreduce on fewer than 4
        // processes: 3× slower than MPI_Allreduce for the gradient's
        // megabyte buckets. Ask for reduce-scatter + allgather (Rabenseifner)
        // unless the user chose (--mca or the environment). Read at MPI_Init.
        setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "3", 0);
        int provided = 0;
        // Funneled: only the thread that initialised calls MPI; the compute threads never do.
        status = mpi.init_thread(NULL, NULL, 1, &provided);
    }
    if (status == 0) status = mpi.set_errhandler(mpi.comm_world, mpi.errors_return);
    pthread_mutex_unlock(&init_lock);
    return status;
}

int n2n_mpi_finalize(void) {
    REQUIRE_LOADED();
    int initialized = 0, finalized = 0;
    mpi.initialized(&initialized);
    mpi.finalized(&finalized);
    return initialized && !finalized ? mpi.finalize() : 0;
}

int n2n_mpi_active(void) {
    if (load_status != 0) return 0;
    int initialized = 0, finalized = 0;
    mpi.initialized(&initialized);
    mpi.finalized(&finalized);
    return initialized && !finalized;
}

int n2n_mpi_abort(int code) {
    REQUIRE_LOADED();
    return mpi.abort(mpi.comm_world, code);
}

int n2n_mpi_rank(int *rank) {
    REQUIRE_LOADED();
    return mpi.comm_rank(mpi.comm_world, rank);
}

int n2n_mpi_size(int *size) {
    REQUIRE_LOADED();
    return mpi.comm_size(mpi.comm_world, size);
}

int n2n_mpi_barrier(void) {
    REQUIRE_LOADED();
    return mpi.barrier(mpi.comm_world);
}

int n2n_mpi_broadcast(void *buffer, int count, n2n_mpi_type type, int root) {
    REQUIRE_LOADED();
    return mpi.bcast(buffer, count, mpi.types[type], root, mpi.comm_world);
}

int n2n_mpi_allreduce(void *buffer, int count, n2n_mpi_type type, n2n_mpi_operation operation) {
    REQUIRE_LOADED();
    return mpi.allreduce(in_place, buffer, count, mpi.types[type], mpi.operations[operation], mpi.comm_world);
}

int n2n_mpi_iallreduce(void *buffer, int count, n2n_mpi_type type, n2n_mpi_operation operation,
                       n2n_mpi_request *request) {
    REQUIRE_LOADED();
    return mpi.iallreduce(in_place, buffer, count, mpi.types[type], mpi.operations[operation], mpi.comm_world,
                          request);
}

int n2n_mpi_wait(n2n_mpi_request *request) {
    REQUIRE_LOADED();
    return mpi.wait(request, status_ignore);
}

int n2n_mpi_waitall(int count, n2n_mpi_request *requests) {
    REQUIRE_LOADED();
    return mpi.waitall(count, requests, status_ignore);
}

int n2n_mpi_testall(int count, n2n_mpi_request *requests, int *completed) {
    REQUIRE_LOADED();
    return mpi.testall(count, requests, completed, status_ignore);
}

int n2n_mpi_gather(const void *send, int count, void *receive, n2n_mpi_type type, int root) {
    REQUIRE_LOADED();
    return mpi.gather(send, count, mpi.types[type], receive, count, mpi.types[type], root, mpi.comm_world);
}

int n2n_mpi_gatherv(const void *send, int count, void *receive, const int *counts, const int *displacements,
                    n2n_mpi_type type, int root) {
    REQUIRE_LOADED();
    return mpi.gatherv(send, count, mpi.types[type], receive, counts, displacements, mpi.types[type], root,
                       mpi.comm_world);
}

void n2n_mpi_error_string(int code, char *text, size_t capacity) {
    if (capacity == 0) return;
    text[0] = 0;
    if (code == N2N_MPI_NOT_LOADED) {
        snprintf(text, capacity, "%s", load_error);
        return;
    }
    if (n2n_mpi_load() != 0) return;
    char message[1024];
    int length = 0;
    if (mpi.error_string(code, message, &length) == 0) {
        message[length < (int)sizeof message ? length : (int)sizeof message - 1] = 0;
        snprintf(text, capacity, "%s", message);
    } else {
        snprintf(text, capacity, "MPI error %d", code);
    }
}
