// The allocation trace file format (version 1), shared by the recorder (libabtrace.so)
// and the reader. The format is described in workloads/trace/FORMAT.md; this header holds
// its constants and the variable-length integer coding, nothing that allocates.
#pragma once

#include <cstddef>
#include <cstdint>

namespace allocbench::trace::format {

inline constexpr char kFileMagic[8] = {'A', 'B', 'T', 'R', 'A', 'C', 'E', '1'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::uint32_t kHeaderSize = 64;
inline constexpr std::uint32_t kChunkMagic = 0x4b484341;  // "ACHK" little-endian
inline constexpr std::uint32_t kChunkHeaderSize = 24;
// The end record: a chunk header with this magic and an 8-byte payload, the number of
// events written before it. A recording that ended with a normal exit has one; a file
// without one is incomplete (the program died, or the disk filled).
inline constexpr std::uint32_t kEndMagic = 0x444e4541;  // "AEND" little-endian
inline constexpr std::uint32_t kEndPayloadSize = 8;
// The longest event: kind byte + 7 varints of at most 10 bytes.
inline constexpr std::size_t kMaxEventBytes = 1 + 7 * 10;

// The calls a trace records. The numeric values are part of the file format.
enum class Call : std::uint8_t {
  kMalloc = 1,
  kCalloc = 2,
  kRealloc = 3,
  kFree = 4,
  kMemalign = 5,
  kAlignedAlloc = 6,
  kPosixMemalign = 7,
  kValloc = 8,
  kPvalloc = 9,
  kReallocarray = 10,
};
inline constexpr std::uint8_t kMaxCall = 10;

inline const char *call_name(Call call) {
  switch (call) {
    case Call::kMalloc:
      return "malloc";
    case Call::kCalloc:
      return "calloc";
    case Call::kRealloc:
      return "realloc";
    case Call::kFree:
      return "free";
    case Call::kMemalign:
      return "memalign";
    case Call::kAlignedAlloc:
      return "aligned_alloc";
    case Call::kPosixMemalign:
      return "posix_memalign";
    case Call::kValloc:
      return "valloc";
    case Call::kPvalloc:
      return "pvalloc";
    case Call::kReallocarray:
      return "reallocarray";
  }
  return "unknown";
}

// The file header, little-endian, kHeaderSize bytes.
struct FileHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint32_t pid;
  std::uint32_t parent_pid;          // the recording parent when this file is a fork's, else 0
  std::uint64_t start_realtime_ns;   // CLOCK_REALTIME when recording started
  std::uint64_t start_monotonic_ns;  // CLOCK_MONOTONIC at the same moment; event times are
                                     // nanoseconds after it
  std::uint64_t first_seq;           // the first sequence number this file can hold
  char reserved[16];
};
static_assert(sizeof(FileHeader) == kHeaderSize);

// Every chunk of events starts with this header, little-endian, kChunkHeaderSize bytes.
struct ChunkHeader {
  std::uint32_t magic;
  std::uint32_t thread;  // dense thread index within the process, 0 = first recorded thread
  std::uint32_t tid;     // the OS thread id
  std::uint32_t events;
  std::uint32_t payload_bytes;
  std::uint32_t reserved;
};
static_assert(sizeof(ChunkHeader) == kChunkHeaderSize);

inline std::uint8_t *put_varint(std::uint8_t *out, std::uint64_t value) {
  while (value >= 0x80) {
    *out++ = static_cast<std::uint8_t>(value | 0x80);
    value >>= 7;
  }
  *out++ = static_cast<std::uint8_t>(value);
  return out;
}

inline std::uint64_t zigzag(std::int64_t value) {
  return (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
}

inline std::int64_t unzigzag(std::uint64_t value) {
  return static_cast<std::int64_t>(value >> 1) ^ -static_cast<std::int64_t>(value & 1);
}

}  // namespace allocbench::trace::format
