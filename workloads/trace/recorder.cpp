// libabtrace.so: records every malloc-family call of a program into an allocation trace.
//
//   ABTRACE_FILE=out.%p.abt LD_PRELOAD=libabtrace.so program args...
//
// The calls are forwarded to the next allocator in the lookup order (dlsym RTLD_NEXT), so
// the program runs on its usual allocator. Each thread encodes its events into its own
// mmap'ed buffer (no allocation through the hooked functions, one uncontended atomic per
// event) and writes it out as one chunk when it is full, when the thread exits and when
// the process exits. The format is described in FORMAT.md.
//
// Events are ordered by one global sequence number, taken after an allocating call
// returns and before a free is forwarded; realloc takes one before and one after. This
// makes the order consistent with the allocator's own reuse of addresses, so the reader
// can turn addresses into object identities.
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "allocbench/trace_format.h"

namespace {

namespace fmt = allocbench::trace::format;
using fmt::Call;

using MallocFn = void *(*)(size_t);
using CallocFn = void *(*)(size_t, size_t);
using ReallocFn = void *(*)(void *, size_t);
using ReallocarrayFn = void *(*)(void *, size_t, size_t);
using FreeFn = void (*)(void *);
using MemalignFn = void *(*)(size_t, size_t);
using PosixMemalignFn = int (*)(void **, size_t, size_t);

struct RealFunctions {
  MallocFn malloc;
  CallocFn calloc;
  ReallocFn realloc;
  ReallocarrayFn reallocarray;
  FreeFn free;
  MemalignFn memalign;
  MemalignFn aligned_alloc;
  PosixMemalignFn posix_memalign;
  MallocFn valloc;
  MallocFn pvalloc;
};
RealFunctions real;

enum State : int { kUninitialized, kInitializing, kActive, kDisabled };
std::atomic<int> g_state{kUninitialized};
std::atomic<bool> g_real_resolved{false};
// Set once the exit flush ran: later events are written out one by one.
std::atomic<bool> g_finished{false};

// dlsym may allocate (its error buffer) before the real functions are known; those
// requests come from this static arena and are never freed.
alignas(64) unsigned char g_bootstrap[64 * 1024];
std::atomic<size_t> g_bootstrap_used{0};

bool in_bootstrap(const void *ptr) {
  auto p = static_cast<const unsigned char *>(ptr);
  return p >= g_bootstrap && p < g_bootstrap + sizeof(g_bootstrap);
}

void *bootstrap_alloc(size_t size, size_t alignment = 16) {
  // Each block keeps its size in the 16 bytes before it so realloc can copy it out.
  if (alignment < 16) alignment = 16;
  size_t offset = g_bootstrap_used.load(std::memory_order_relaxed);
  for (;;) {
    size_t start = (offset + 16 + alignment - 1) & ~(alignment - 1);
    size_t end = start + ((size + 15) & ~size_t{15});
    if (end > sizeof(g_bootstrap)) return nullptr;
    if (g_bootstrap_used.compare_exchange_weak(offset, end)) {
      std::memcpy(g_bootstrap + start - 16, &size, sizeof(size));
      return g_bootstrap + start;
    }
  }
}

size_t bootstrap_size(const void *ptr) {
  size_t size;
  std::memcpy(&size, static_cast<const unsigned char *>(ptr) - 16, sizeof(size));
  return size;
}

// A test-and-set lock that never allocates and is safe to take in a fork handler.
struct SpinLock {
  std::atomic<bool> locked{false};
  void lock() {
    while (locked.exchange(true, std::memory_order_acquire)) {
      while (locked.load(std::memory_order_relaxed)) sched_yield();
    }
  }
  void unlock() { locked.store(false, std::memory_order_release); }
};

constexpr size_t kBufferBytes = 256 * 1024;

// One thread's event buffer. Lives in its own mapping; recycled when its thread exits.
struct Buffer {
  SpinLock lock;  // owner while appending; the exit and fork paths while flushing
  Buffer *next_all;
  Buffer *next_free;
  uint32_t thread;
  uint32_t tid;
  uint32_t events;
  uint8_t *cursor;
  // Delta-coding state, reset at every chunk.
  uint64_t prev_seq;
  uint64_t prev_time;
  uint64_t prev_address;
  alignas(16) uint8_t data[kBufferBytes];  // chunk header followed by the payload
};

SpinLock g_list_lock;  // g_all_buffers, g_free_buffers
Buffer *g_all_buffers = nullptr;
Buffer *g_free_buffers = nullptr;
SpinLock g_file_lock;  // g_fd and the file's contents
int g_fd = -1;
std::atomic<uint64_t> g_seq{1};
std::atomic<uint32_t> g_next_thread{0};
uint64_t g_start_ns = 0;
pthread_key_t g_thread_key;
char g_path_pattern[4096];
bool g_pattern_has_pid = false;

struct ThreadState {
  Buffer *buffer;
  uint32_t thread;
  bool has_thread;
  bool in_hook;       // set while this thread is inside the recorder: calls pass through
  bool initializing;  // this thread resolves the real functions: serve from the bootstrap
};
thread_local ThreadState t_state __attribute__((tls_model("initial-exec")));

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// False when the data could not all be written.
bool write_all(int fd, const void *data, size_t size) {
  auto p = static_cast<const uint8_t *>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // a full disk loses the rest of the trace but never the program
    }
    if (n == 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Events written whole to this process's file, and whether a write failed (then the file
// gets no end record: a reader must not take it for complete). Under g_file_lock.
uint64_t g_events_written = 0;
bool g_write_failed = false;

void report(const char *message) {
  write_all(2, "abtrace: ", 9);
  write_all(2, message, std::strlen(message));
  write_all(2, "\n", 1);
}

// Expands %p (pid) and %% in the pattern; never allocates.
bool expand_path(char *out, size_t out_size, const char *pattern, pid_t pid) {
  size_t n = 0;
  for (const char *p = pattern; *p; ++p) {
    if (p[0] == '%' && p[1] == 'p') {
      char digits[16];
      int d = 0;
      unsigned v = static_cast<unsigned>(pid);
      do {
        digits[d++] = static_cast<char>('0' + v % 10);
        v /= 10;
      } while (v);
      while (d > 0) {
        if (n + 1 >= out_size) return false;
        out[n++] = digits[--d];
      }
      ++p;
      continue;
    }
    if (p[0] == '%' && p[1] == '%') ++p;
    if (n + 1 >= out_size) return false;
    out[n++] = *p;
  }
  out[n] = '\0';
  return true;
}

bool open_trace_file(pid_t parent_pid) {
  char path[sizeof(g_path_pattern) + 16];
  if (!expand_path(path, sizeof(path), g_path_pattern, getpid())) {
    report("ABTRACE_FILE is too long; not recording");
    return false;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    report("cannot open the trace file named by ABTRACE_FILE; not recording");
    return false;
  }
  fmt::FileHeader header;
  std::memset(&header, 0, sizeof(header));
  std::memcpy(header.magic, fmt::kFileMagic, sizeof(header.magic));
  header.version = fmt::kVersion;
  header.header_size = fmt::kHeaderSize;
  header.pid = static_cast<uint32_t>(getpid());
  header.parent_pid = static_cast<uint32_t>(parent_pid);
  timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  header.start_realtime_ns =
      static_cast<uint64_t>(rt.tv_sec) * 1000000000u + static_cast<uint64_t>(rt.tv_nsec);
  header.start_monotonic_ns = g_start_ns;
  header.first_seq = g_seq.load();
  g_events_written = 0;
  g_write_failed = !write_all(fd, &header, sizeof(header));
  g_fd = fd;
  return true;
}

void reset_chunk(Buffer *b) {
  b->events = 0;
  b->cursor = b->data + fmt::kChunkHeaderSize;
  b->prev_seq = 0;
  b->prev_time = 0;
  b->prev_address = 0;
}

// Writes the buffer's events as one chunk. The caller holds b->lock.
void flush_locked(Buffer *b) {
  if (b->events == 0) return;
  fmt::ChunkHeader header;
  header.magic = fmt::kChunkMagic;
  header.thread = b->thread;
  header.tid = b->tid;
  header.events = b->events;
  header.payload_bytes = static_cast<uint32_t>(b->cursor - b->data - fmt::kChunkHeaderSize);
  header.reserved = 0;
  std::memcpy(b->data, &header, sizeof(header));
  g_file_lock.lock();
  if (g_fd >= 0) {
    if (write_all(g_fd, b->data, static_cast<size_t>(b->cursor - b->data))) {
      g_events_written += b->events;
    } else {
      g_write_failed = true;
    }
  }
  g_file_lock.unlock();
  reset_chunk(b);
}

// Marks the file complete: every event recorded so far is in it. Written by the exit
// flush only, so a program that dies (abort, a signal, _exit) leaves a file without it.
void write_end_record() {
  g_file_lock.lock();
  if (g_fd >= 0 && !g_write_failed) {
    uint8_t record[fmt::kChunkHeaderSize + fmt::kEndPayloadSize];
    fmt::ChunkHeader header;
    std::memset(&header, 0, sizeof(header));
    header.magic = fmt::kEndMagic;
    header.payload_bytes = fmt::kEndPayloadSize;
    std::memcpy(record, &header, sizeof(header));
    std::memcpy(record + sizeof(header), &g_events_written, sizeof(g_events_written));
    if (!write_all(g_fd, record, sizeof(record))) g_write_failed = true;
  }
  g_file_lock.unlock();
}

void on_thread_exit(void *arg);

Buffer *acquire_buffer() {
  g_list_lock.lock();
  Buffer *b = g_free_buffers;
  if (b) g_free_buffers = b->next_free;
  g_list_lock.unlock();
  if (!b) {
    void *mem =
        mmap(nullptr, sizeof(Buffer), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    b = static_cast<Buffer *>(mem);  // zero-filled: the lock is free, the links are null
    g_list_lock.lock();
    b->next_all = g_all_buffers;
    g_all_buffers = b;
    g_list_lock.unlock();
  }
  ThreadState &ts = t_state;
  if (!ts.has_thread) {
    ts.thread = g_next_thread.fetch_add(1, std::memory_order_relaxed);
    ts.has_thread = true;
  }
  b->thread = ts.thread;
  b->tid = static_cast<uint32_t>(syscall(SYS_gettid));
  reset_chunk(b);
  // Registers the exit flush; may allocate (glibc's second-level key table), which is
  // fine here because the caller has set in_hook.
  pthread_setspecific(g_thread_key, &ts);
  return b;
}

void on_thread_exit(void *arg) {
  auto ts = static_cast<ThreadState *>(arg);
  Buffer *b = ts->buffer;
  if (!b) return;
  ts->buffer = nullptr;
  b->lock.lock();
  flush_locked(b);
  b->lock.unlock();
  g_list_lock.lock();
  b->next_free = g_free_buffers;
  g_free_buffers = b;
  g_list_lock.unlock();
}

void flush_all() {
  g_list_lock.lock();
  for (Buffer *b = g_all_buffers; b; b = b->next_all) {
    b->lock.lock();
    flush_locked(b);
    b->lock.unlock();
  }
  g_list_lock.unlock();
}

void at_fork_prepare() {
  // Holds every lock across fork so the child sees consistent buffers and file state.
  g_list_lock.lock();
  for (Buffer *b = g_all_buffers; b; b = b->next_all) b->lock.lock();
  g_file_lock.lock();
}

void at_fork_parent() {
  g_file_lock.unlock();
  for (Buffer *b = g_all_buffers; b; b = b->next_all) b->lock.unlock();
  g_list_lock.unlock();
}

void at_fork_child() {
  // The events still buffered belong to the parent, which writes them itself. The child
  // drops them, keeps only the forking thread, and records into its own file when the
  // file name has %p; otherwise it stops recording.
  Buffer *mine = t_state.buffer;
  g_free_buffers = nullptr;
  for (Buffer *b = g_all_buffers; b; b = b->next_all) {
    reset_chunk(b);
    if (b != mine) {
      b->next_free = g_free_buffers;
      g_free_buffers = b;
    }
    b->lock.unlock();
  }
  if (mine) mine->tid = static_cast<uint32_t>(syscall(SYS_gettid));
  int parent_fd = g_fd;
  g_fd = -1;
  if (parent_fd >= 0) close(parent_fd);
  g_file_lock.unlock();
  g_list_lock.unlock();
  if (!g_pattern_has_pid || !open_trace_file(getppid())) {
    g_state.store(kDisabled);
  }
}

void at_exit_flush() {
  ThreadState &ts = t_state;
  ts.in_hook = true;
  flush_all();
  write_end_record();
  g_finished.store(true);
  ts.in_hook = false;
}

template <typename T>
T resolve(const char *name) {
  return reinterpret_cast<T>(dlsym(RTLD_NEXT, name));
}

void initialize() {
  if (t_state.initializing) return;
  int expected = kUninitialized;
  if (!g_state.compare_exchange_strong(expected, kInitializing)) {
    // Another thread is initializing: wait for the real functions.
    while (g_state.load() == kInitializing) sched_yield();
    return;
  }
  t_state.initializing = true;
  real.malloc = resolve<MallocFn>("malloc");
  real.calloc = resolve<CallocFn>("calloc");
  real.realloc = resolve<ReallocFn>("realloc");
  real.reallocarray = resolve<ReallocarrayFn>("reallocarray");
  real.free = resolve<FreeFn>("free");
  real.memalign = resolve<MemalignFn>("memalign");
  real.aligned_alloc = resolve<MemalignFn>("aligned_alloc");
  real.posix_memalign = resolve<PosixMemalignFn>("posix_memalign");
  real.valloc = resolve<MallocFn>("valloc");
  real.pvalloc = resolve<MallocFn>("pvalloc");
  if (!real.malloc || !real.calloc || !real.realloc || !real.free || !real.posix_memalign) {
    report("cannot find the real malloc functions (dlsym RTLD_NEXT); aborting");
    abort();
  }
  g_real_resolved.store(true);
  g_start_ns = now_ns();
  const char *pattern = getenv("ABTRACE_FILE");
  if (!pattern || !*pattern) pattern = "abtrace.%p.abt";
  size_t len = std::strlen(pattern);
  if (len >= sizeof(g_path_pattern)) {
    report("ABTRACE_FILE is too long; not recording");
    t_state.initializing = false;
    g_state.store(kDisabled);
    return;
  }
  std::memcpy(g_path_pattern, pattern, len + 1);
  g_pattern_has_pid = std::strstr(pattern, "%p") != nullptr;
  t_state.in_hook = true;
  bool ok = pthread_key_create(&g_thread_key, on_thread_exit) == 0 && open_trace_file(0);
  if (ok) {
    pthread_atfork(at_fork_prepare, at_fork_parent, at_fork_child);
    atexit(at_exit_flush);
  }
  t_state.in_hook = false;
  t_state.initializing = false;
  g_state.store(ok ? kActive : kDisabled);
}

// True once the real functions are known (the call can be forwarded).
inline bool ready() {
  int state = g_state.load(std::memory_order_acquire);
  if (state == kActive || state == kDisabled) return true;
  if (t_state.initializing) return g_real_resolved.load();
  initialize();
  return true;
}

// Enters the recorder for one event; false when this call must not be recorded.
inline bool enter() {
  ThreadState &ts = t_state;
  if (ts.in_hook || g_state.load(std::memory_order_relaxed) != kActive) return false;
  ts.in_hook = true;
  return true;
}

inline void leave() {
  t_state.in_hook = false;
}

inline uint64_t next_seq() {
  return g_seq.fetch_add(1, std::memory_order_relaxed);
}

// Appends one event to this thread's buffer. `fields` are the call-specific values,
// `addresses` marks which of them are addresses (delta-coded against the previous one).
void record(Call call, uint64_t seq, const uint64_t *fields, int count, unsigned addresses) {
  ThreadState &ts = t_state;
  Buffer *b = ts.buffer;
  if (!b) {
    b = acquire_buffer();
    if (!b) return;
    ts.buffer = b;
  }
  uint64_t t = now_ns() - g_start_ns;
  b->lock.lock();
  if (static_cast<size_t>(b->data + sizeof(b->data) - b->cursor) < fmt::kMaxEventBytes) {
    flush_locked(b);
  }
  uint8_t *out = b->cursor;
  *out++ = static_cast<uint8_t>(call);
  out = fmt::put_varint(out, seq - b->prev_seq);
  out = fmt::put_varint(out, t >= b->prev_time ? t - b->prev_time : 0);
  b->prev_seq = seq;
  if (t > b->prev_time) b->prev_time = t;
  for (int i = 0; i < count; ++i) {
    if (addresses & (1u << i)) {
      out = fmt::put_varint(out, fmt::zigzag(static_cast<int64_t>(fields[i] - b->prev_address)));
      b->prev_address = fields[i];
    } else {
      out = fmt::put_varint(out, fields[i]);
    }
  }
  b->cursor = out;
  ++b->events;
  if (g_finished.load(std::memory_order_relaxed)) flush_locked(b);
  b->lock.unlock();
}

inline uint64_t addr(const void *p) {
  return reinterpret_cast<uintptr_t>(p);
}

void record_alloc(Call call, uint64_t seq, uint64_t size, const void *result) {
  uint64_t fields[2] = {size, addr(result)};
  record(call, seq, fields, 2, 0b10);
}

void record_aligned(Call call, uint64_t seq, uint64_t alignment, uint64_t size,
                    const void *result) {
  uint64_t fields[3] = {alignment, size, addr(result)};
  record(call, seq, fields, 3, 0b100);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void *malloc(size_t size) {
  if (!ready()) return bootstrap_alloc(size);
  if (!enter()) return real.malloc(size);
  void *p = real.malloc(size);
  record_alloc(Call::kMalloc, next_seq(), size, p);
  leave();
  return p;
}

__attribute__((visibility("default"))) void *calloc(size_t count, size_t size) {
  if (!ready()) {
    // The bootstrap arena is static, hence zeroed; an overflowing product fails.
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) return nullptr;
    return bootstrap_alloc(total);
  }
  if (!enter()) return real.calloc(count, size);
  void *p = real.calloc(count, size);
  uint64_t fields[3] = {count, size, addr(p)};
  record(Call::kCalloc, next_seq(), fields, 3, 0b100);
  leave();
  return p;
}

__attribute__((visibility("default"))) void free(void *ptr) {
  if (in_bootstrap(ptr)) return;
  if (!ready()) return;
  if (!enter()) {
    real.free(ptr);
    return;
  }
  uint64_t fields[1] = {addr(ptr)};
  record(Call::kFree, next_seq(), fields, 1, 0b1);
  real.free(ptr);
  leave();
}

__attribute__((visibility("default"))) void *realloc(void *ptr, size_t size) {
  if (in_bootstrap(ptr)) {
    // Moves a bootstrap block to the real allocator (through the hook, so it is recorded).
    void *p = malloc(size);
    if (p) {
      size_t old = bootstrap_size(ptr);
      std::memcpy(p, ptr, old < size ? old : size);
    }
    return p;
  }
  if (!ready()) return bootstrap_alloc(size);
  if (!enter()) return real.realloc(ptr, size);
  uint64_t seq = next_seq();
  void *p = real.realloc(ptr, size);
  uint64_t seq_after = next_seq();
  uint64_t fields[4] = {addr(ptr), size, addr(p), seq_after - seq};
  record(Call::kRealloc, seq, fields, 4, 0b101);
  leave();
  return p;
}

__attribute__((visibility("default"))) void *reallocarray(void *ptr, size_t count, size_t size) {
  size_t total;
  if (in_bootstrap(ptr) || !ready()) {
    if (__builtin_mul_overflow(count, size, &total)) {
      errno = ENOMEM;
      return nullptr;
    }
    return realloc(ptr, total);
  }
  if (!enter() || !real.reallocarray) {
    if (real.reallocarray) return real.reallocarray(ptr, count, size);
    if (__builtin_mul_overflow(count, size, &total)) {
      errno = ENOMEM;
      return nullptr;
    }
    return realloc(ptr, total);
  }
  uint64_t seq = next_seq();
  void *p = real.reallocarray(ptr, count, size);
  uint64_t seq_after = next_seq();
  uint64_t fields[5] = {addr(ptr), count, size, addr(p), seq_after - seq};
  record(Call::kReallocarray, seq, fields, 5, 0b1001);
  leave();
  return p;
}

__attribute__((visibility("default"))) void *memalign(size_t alignment, size_t size) {
  if (!ready()) return bootstrap_alloc(size, alignment);
  if (!enter() || !real.memalign) {
    if (real.memalign) return real.memalign(alignment, size);
    void *p = nullptr;
    return real.posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
  }
  void *p = real.memalign(alignment, size);
  record_aligned(Call::kMemalign, next_seq(), alignment, size, p);
  leave();
  return p;
}

__attribute__((visibility("default"))) void *aligned_alloc(size_t alignment, size_t size) {
  if (!ready()) return bootstrap_alloc(size, alignment);
  if (!enter() || !real.aligned_alloc) {
    if (real.aligned_alloc) return real.aligned_alloc(alignment, size);
    void *p = nullptr;
    return real.posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
  }
  void *p = real.aligned_alloc(alignment, size);
  record_aligned(Call::kAlignedAlloc, next_seq(), alignment, size, p);
  leave();
  return p;
}

__attribute__((visibility("default"))) int posix_memalign(void **out, size_t alignment,
                                                          size_t size) {
  if (!ready()) {
    *out = bootstrap_alloc(size, alignment);
    return *out ? 0 : ENOMEM;
  }
  if (!enter()) return real.posix_memalign(out, alignment, size);
  void *p = nullptr;
  int rc = real.posix_memalign(&p, alignment, size);
  if (rc == 0) *out = p;
  record_aligned(Call::kPosixMemalign, next_seq(), alignment, size, rc == 0 ? p : nullptr);
  leave();
  return rc;
}

__attribute__((visibility("default"))) void *valloc(size_t size) {
  if (!ready()) return bootstrap_alloc(size, 4096);
  if (!enter() || !real.valloc) {
    if (real.valloc) return real.valloc(size);
    void *p = nullptr;
    return real.posix_memalign(&p, 4096, size) == 0 ? p : nullptr;
  }
  void *p = real.valloc(size);
  record_alloc(Call::kValloc, next_seq(), size, p);
  leave();
  return p;
}

__attribute__((visibility("default"))) void *pvalloc(size_t size) {
  if (!ready()) return bootstrap_alloc(size, 4096);
  if (!enter() || !real.pvalloc) {
    if (real.pvalloc) return real.pvalloc(size);
    void *p = nullptr;
    size_t rounded = (size + 4095) & ~size_t{4095};
    return real.posix_memalign(&p, 4096, rounded) == 0 ? p : nullptr;
  }
  void *p = real.pvalloc(size);
  record_alloc(Call::kPvalloc, next_seq(), size, p);
  leave();
  return p;
}

}  // extern "C"

// Starts recording before main so the program's first calls are captured.
__attribute__((constructor)) static void abtrace_constructor() {
  ready();
}
