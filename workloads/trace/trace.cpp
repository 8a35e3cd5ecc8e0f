#include "allocbench/trace.h"

#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#ifndef ALLOCBENCH_TRACE_SOURCE_DIR
#error "ALLOCBENCH_TRACE_SOURCE_DIR must name the shipped traces' directory"
#endif

namespace allocbench::trace {

namespace {

using format::put_varint;
using format::unzigzag;
using format::zigzag;

[[noreturn]] void fail(const std::string &name, const std::string &what) {
  throw std::runtime_error("trace " + name + ": " + what);
}

class Decoder {
 public:
  Decoder(const std::uint8_t *p, const std::uint8_t *end) : p_(p), end_(end) {}
  bool done() const { return p_ == end_; }
  bool varint(std::uint64_t &value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      std::uint8_t byte = *p_++;
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;
  }
  bool byte(std::uint8_t &value) {
    if (p_ == end_) return false;
    value = *p_++;
    return true;
  }

 private:
  const std::uint8_t *p_;
  const std::uint8_t *end_;
};

// Number of fields after seq and time, and which of them are addresses, per call.
struct Layout {
  int fields;
  unsigned addresses;
};

Layout layout(Call call) {
  switch (call) {
    case Call::kMalloc:
    case Call::kValloc:
    case Call::kPvalloc:
      return {2, 0b10};
    case Call::kCalloc:
      return {3, 0b100};
    case Call::kRealloc:
      return {4, 0b101};
    case Call::kReallocarray:
      return {5, 0b1001};
    case Call::kFree:
      return {1, 0b1};
    case Call::kMemalign:
    case Call::kAlignedAlloc:
    case Call::kPosixMemalign:
      return {3, 0b100};
  }
  return {0, 0};
}

void to_fields(const Event &e, std::uint64_t *f) {
  switch (e.call) {
    case Call::kMalloc:
    case Call::kValloc:
    case Call::kPvalloc:
      f[0] = e.size;
      f[1] = e.address;
      break;
    case Call::kCalloc:
      f[0] = e.count;
      f[1] = e.size;
      f[2] = e.address;
      break;
    case Call::kRealloc:
      f[0] = e.old_address;
      f[1] = e.size;
      f[2] = e.address;
      f[3] = e.seq_after - e.seq;
      break;
    case Call::kReallocarray:
      f[0] = e.old_address;
      f[1] = e.count;
      f[2] = e.size;
      f[3] = e.address;
      f[4] = e.seq_after - e.seq;
      break;
    case Call::kFree:
      f[0] = e.address;
      break;
    case Call::kMemalign:
    case Call::kAlignedAlloc:
    case Call::kPosixMemalign:
      f[0] = e.alignment;
      f[1] = e.size;
      f[2] = e.address;
      break;
  }
}

void from_fields(Event &e, const std::uint64_t *f) {
  switch (e.call) {
    case Call::kMalloc:
    case Call::kValloc:
    case Call::kPvalloc:
      e.size = f[0];
      e.address = f[1];
      break;
    case Call::kCalloc:
      e.count = f[0];
      e.size = f[1];
      e.address = f[2];
      break;
    case Call::kRealloc:
      e.old_address = f[0];
      e.size = f[1];
      e.address = f[2];
      e.seq_after = e.seq + f[3];
      break;
    case Call::kReallocarray:
      e.old_address = f[0];
      e.count = f[1];
      e.size = f[2];
      e.address = f[3];
      e.seq_after = e.seq + f[4];
      break;
    case Call::kFree:
      e.address = f[0];
      break;
    case Call::kMemalign:
    case Call::kAlignedAlloc:
    case Call::kPosixMemalign:
      e.alignment = f[0];
      e.size = f[1];
      e.address = f[2];
      break;
  }
}

bool is_realloc(Call call) {
  return call == Call::kRealloc || call == Call::kReallocarray;
}

unsigned bucket_of(std::uint64_t value) {
  return value == 0 ? 0u : static_cast<unsigned>(std::bit_width(value));
}

void add_bucket(std::vector<std::uint64_t> &buckets, std::uint64_t value) {
  unsigned b = bucket_of(value);
  if (buckets.size() <= b) buckets.resize(b + 1, 0);
  ++buckets[b];
}

std::string human_bytes(std::uint64_t v) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (v >= 1024 && v % 1024 == 0 && u < 4) {
    v /= 1024;
    ++u;
  }
  return std::to_string(v) + " " + units[u];
}

std::string human_ns(std::uint64_t v) {
  if (v < 1000) return std::to_string(v) + " ns";
  if (v < 1000000) return std::to_string(v / 1000) + " us";
  if (v < 1000000000) return std::to_string(v / 1000000) + " ms";
  return std::to_string(v / 1000000000) + " s";
}

void print_buckets(std::ostream &out, const std::vector<std::uint64_t> &buckets,
                   std::string (*label)(std::uint64_t)) {
  std::uint64_t total = 0, widest = 0;
  for (auto c : buckets) {
    total += c;
    widest = std::max(widest, c);
  }
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    if (buckets[b] == 0) continue;
    std::string range =
        b == 0 ? label(0)
               : label(std::uint64_t{1} << (b - 1)) + " .. <" + label(std::uint64_t{1} << b);
    int bar = widest ? static_cast<int>(40 * buckets[b] / widest) : 0;
    out << "  " << std::left << std::setw(24) << range << std::right << std::setw(12) << buckets[b]
        << std::setw(7) << std::fixed << std::setprecision(1)
        << (total ? 100.0 * static_cast<double>(buckets[b]) / static_cast<double>(total) : 0.0)
        << "%  " << std::string(static_cast<std::size_t>(bar), '#') << "\n";
  }
}

}  // namespace

Trace parse_trace(const std::uint8_t *data, std::size_t size, const std::string &name) {
  if (size < format::kHeaderSize) fail(name, "too short for a trace header");
  format::FileHeader header;
  std::memcpy(&header, data, sizeof(header));
  if (std::memcmp(header.magic, format::kFileMagic, sizeof(header.magic)) != 0) {
    fail(name, "not an allocation trace (bad magic; expected ABTRACE1)");
  }
  if (header.version != format::kVersion) {
    fail(name, "trace format version " + std::to_string(header.version) +
                   " is not supported (this build reads version " +
                   std::to_string(format::kVersion) + ")");
  }
  if (header.header_size < format::kHeaderSize || header.header_size > size) {
    fail(name, "bad header size");
  }
  Trace trace;
  trace.complete = false;          // until its end record
  trace.events.reserve(size / 6);  // about six bytes per event
  trace.pid = header.pid;
  trace.parent_pid = header.parent_pid;
  trace.start_realtime_ns = header.start_realtime_ns;
  std::size_t pos = header.header_size;
  while (pos < size) {
    if (size - pos < format::kChunkHeaderSize) {  // cut short at the end: dropped
      trace.complete = false;
      trace.dropped_bytes = size - pos;
      break;
    }
    format::ChunkHeader chunk;
    std::memcpy(&chunk, data + pos, sizeof(chunk));
    if (chunk.magic == format::kEndMagic) {
      std::uint64_t written = 0;
      if (chunk.payload_bytes != format::kEndPayloadSize ||
          size - pos - format::kChunkHeaderSize < format::kEndPayloadSize) {
        trace.complete = false;
        trace.dropped_bytes = size - pos;
        break;
      }
      std::memcpy(&written, data + pos + format::kChunkHeaderSize, sizeof(written));
      if (written != trace.events.size()) {
        fail(name, "the end record counts " + std::to_string(written) + " events, the file holds " +
                       std::to_string(trace.events.size()) + " before it");
      }
      trace.complete = true;
      pos += format::kChunkHeaderSize + format::kEndPayloadSize;
      continue;
    }
    if (chunk.magic != format::kChunkMagic) {
      fail(name, "bad chunk magic at offset " + std::to_string(pos));
    }
    if (size - pos - format::kChunkHeaderSize < chunk.payload_bytes) {
      trace.complete = false;  // cut short at the end: dropped
      trace.dropped_bytes = size - pos;
      break;
    }
    pos += format::kChunkHeaderSize;
    if (chunk.thread > 1u << 20)
      fail(name, "implausible thread index " + std::to_string(chunk.thread));
    if (trace.threads.size() <= chunk.thread) trace.threads.resize(chunk.thread + 1);
    ThreadInfo &info = trace.threads[chunk.thread];
    info.index = chunk.thread;
    info.tid = chunk.tid;
    Decoder d(data + pos, data + pos + chunk.payload_bytes);
    std::uint64_t prev_seq = 0, prev_time = 0, prev_address = 0;
    for (std::uint32_t i = 0; i < chunk.events; ++i) {
      std::uint8_t kind;
      std::uint64_t dseq, dtime, f[5];
      if (!d.byte(kind) || kind == 0 || kind > format::kMaxCall) {
        fail(name, "bad event in the chunk at offset " + std::to_string(pos));
      }
      Event e;
      e.call = static_cast<Call>(kind);
      e.thread = chunk.thread;
      Layout l = layout(e.call);
      if (!d.varint(dseq) || !d.varint(dtime)) fail(name, "truncated event");
      prev_seq += dseq;
      prev_time += dtime;
      e.seq = prev_seq;
      e.time_ns = prev_time;
      for (int k = 0; k < l.fields; ++k) {
        if (!d.varint(f[k])) fail(name, "truncated event");
        if (l.addresses & (1u << k)) {
          f[k] = prev_address + static_cast<std::uint64_t>(unzigzag(f[k]));
          prev_address = f[k];
        }
      }
      from_fields(e, f);
      trace.events.push_back(e);
      ++info.events;
    }
    if (!d.done()) fail(name, "chunk payload longer than its events");
    pos += chunk.payload_bytes;
  }
  std::sort(trace.events.begin(), trace.events.end(),
            [](const Event &a, const Event &b) { return a.seq < b.seq; });
  for (std::size_t i = 1; i < trace.events.size(); ++i) {
    if (trace.events[i].seq == trace.events[i - 1].seq) {
      fail(name, "two events share sequence number " + std::to_string(trace.events[i].seq));
    }
  }
  return trace;
}

Trace read_trace(const std::string &path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail(path, "cannot open (" + std::string(std::strerror(errno)) + ")");
  const std::streamoff size = in.tellg();
  if (size < 0) fail(path, "cannot read its size");
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char *>(bytes.data()), size)) fail(path, "read failed");
  return parse_trace(bytes.data(), bytes.size(), path);
}

void write_trace(const std::string &path, const Trace &trace) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(path, "cannot create (" + std::string(std::strerror(errno)) + ")");
  format::FileHeader header{};
  std::memcpy(header.magic, format::kFileMagic, sizeof(header.magic));
  header.version = format::kVersion;
  header.header_size = format::kHeaderSize;
  header.pid = trace.pid;
  header.parent_pid = trace.parent_pid;
  header.start_realtime_ns = trace.start_realtime_ns;
  header.first_seq = trace.events.empty() ? 1 : trace.events.front().seq;
  out.write(reinterpret_cast<const char *>(&header), sizeof(header));
  std::map<std::uint32_t, std::vector<const Event *>> by_thread;
  for (const Event &e : trace.events) by_thread[e.thread].push_back(&e);
  for (const auto &[thread, events] : by_thread) {
    std::vector<std::uint8_t> payload;
    std::uint64_t prev_seq = 0, prev_time = 0, prev_address = 0;
    for (const Event *e : events) {
      std::uint8_t buf[format::kMaxEventBytes];
      std::uint8_t *p = buf;
      *p++ = static_cast<std::uint8_t>(e->call);
      if (e->seq <= prev_seq) fail(path, "events of a thread must have increasing seq");
      p = put_varint(p, e->seq - prev_seq);
      p = put_varint(p, e->time_ns >= prev_time ? e->time_ns - prev_time : 0);
      prev_seq = e->seq;
      prev_time = std::max(prev_time, e->time_ns);
      std::uint64_t f[5];
      to_fields(*e, f);
      Layout l = layout(e->call);
      for (int k = 0; k < l.fields; ++k) {
        if (l.addresses & (1u << k)) {
          p = put_varint(p, zigzag(static_cast<std::int64_t>(f[k] - prev_address)));
          prev_address = f[k];
        } else {
          p = put_varint(p, f[k]);
        }
      }
      payload.insert(payload.end(), buf, p);
    }
    format::ChunkHeader chunk{};
    chunk.magic = format::kChunkMagic;
    chunk.thread = thread;
    chunk.tid = thread < trace.threads.size() ? trace.threads[thread].tid : 0;
    chunk.events = static_cast<std::uint32_t>(events.size());
    chunk.payload_bytes = static_cast<std::uint32_t>(payload.size());
    out.write(reinterpret_cast<const char *>(&chunk), sizeof(chunk));
    out.write(reinterpret_cast<const char *>(payload.data()),
              static_cast<std::streamsize>(payload.size()));
  }
  if (trace.complete) {
    format::ChunkHeader end{};
    end.magic = format::kEndMagic;
    end.payload_bytes = format::kEndPayloadSize;
    const std::uint64_t written = trace.events.size();
    out.write(reinterpret_cast<const char *>(&end), sizeof(end));
    out.write(reinterpret_cast<const char *>(&written), sizeof(written));
  }
  if (!out.flush()) fail(path, "write failed");
}

ResolvedTrace resolve(const Trace &trace) {
  ResolvedTrace r;
  r.threads = static_cast<std::uint32_t>(trace.threads.size());
  // Address actions in the order the allocator saw them: a free (and the release half of
  // a realloc) at its seq, an allocation at its seq, the result of a realloc at seq_after.
  struct Action {
    std::uint64_t key;
    std::uint32_t event;
    bool acquire;
  };
  std::vector<Action> actions;
  actions.reserve(trace.events.size() + trace.events.size() / 4);
  for (std::uint32_t i = 0; i < trace.events.size(); ++i) {
    const Event &e = trace.events[i];
    if (e.call == Call::kFree) {
      actions.push_back({e.seq, i, false});
    } else if (is_realloc(e.call)) {
      if (e.old_address) actions.push_back({e.seq, i, false});
      actions.push_back({e.seq_after, i, true});
    } else {
      actions.push_back({e.seq, i, true});
    }
  }
  std::sort(actions.begin(), actions.end(),
            [](const Action &a, const Action &b) { return a.key < b.key; });

  std::vector<std::uint32_t> created(trace.events.size(), kNoObject);
  std::vector<std::uint32_t> released(trace.events.size(), kNoObject);
  std::vector<bool> released_unknown(trace.events.size(), false);
  std::unordered_map<std::uint64_t, std::uint32_t> live;  // address -> object
  live.reserve(1024);
  std::uint32_t next_object = 0;
  for (const Action &a : actions) {
    const Event &e = trace.events[a.event];
    if (!a.acquire) {
      std::uint64_t address = is_realloc(e.call) ? e.old_address : e.address;
      if (address == 0) continue;
      // A failed realloc (NULL result for a non-zero size) keeps its argument alive.
      if (is_realloc(e.call) && e.address == 0 && e.bytes() != 0) continue;
      auto it = live.find(address);
      if (it == live.end()) {
        released_unknown[a.event] = true;
      } else {
        released[a.event] = it->second;
        live.erase(it);
      }
    } else {
      if (e.address == 0) continue;  // failed (or realloc(p, 0) that freed p)
      auto [it, inserted] = live.try_emplace(e.address, next_object);
      if (!inserted) {
        ++r.lost_frees;
        it->second = next_object;
      }
      created[a.event] = next_object++;
    }
  }
  r.objects = next_object;
  r.live_at_end = live.size();

  // The ops in global order; object ids are renumbered in the order the ops create them.
  std::vector<std::uint32_t> renumber(next_object, kNoObject);
  std::vector<std::uint64_t> object_size;
  std::uint32_t next_id = 0;
  std::uint64_t live_bytes = 0, live_objects = 0;
  r.ops.reserve(trace.events.size());
  for (std::uint32_t i = 0; i < trace.events.size(); ++i) {
    const Event &e = trace.events[i];
    Op op;
    op.call = e.call;
    op.thread = e.thread;
    op.size = e.bytes();
    op.alignment = e.alignment;
    op.time_ns = e.time_ns;
    if (e.call == Call::kFree) {
      if (e.address == 0) {
        ++r.null_frees;
      } else if (released_unknown[i]) {
        ++r.untracked_frees;
        continue;
      }
    } else if (is_realloc(e.call)) {
      if (e.address == 0 && e.bytes() != 0) {
        ++r.failed_calls;
        continue;
      }
      if (released_unknown[i]) ++r.untracked_frees;  // replayed as a fresh allocation
    } else if (e.address == 0) {
      ++r.failed_calls;
      continue;
    }
    if (released[i] != kNoObject) {
      op.old_object = renumber[released[i]];
      live_bytes -= object_size[op.old_object];
      --live_objects;
    }
    if (created[i] != kNoObject) {
      renumber[created[i]] = next_id;
      op.object = next_id++;
      object_size.push_back(op.size);
      r.object_thread.push_back(e.thread);
      live_bytes += op.size;
      ++live_objects;
      r.peak_live_bytes = std::max(r.peak_live_bytes, live_bytes);
      r.peak_live_objects = std::max(r.peak_live_objects, live_objects);
    }
    r.ops.push_back(op);
  }
  r.objects = next_id;
  return r;
}

Summary summarize(const Trace &trace) {
  Summary s;
  s.events = trace.events.size();
  s.threads = trace.threads;
  s.complete = trace.complete;
  s.dropped_bytes = trace.dropped_bytes;
  if (!trace.events.empty()) {
    s.duration_s = static_cast<double>(trace.events.back().time_ns) / 1e9;
  }
  for (const Event &e : trace.events) {
    ++s.calls[static_cast<unsigned>(e.call)];
    if (e.call != Call::kFree) {
      add_bucket(s.size_buckets, e.bytes());
      s.total_requested_bytes += e.bytes();
    }
  }
  s.resolved = resolve(trace);
  // Lifetimes: creation and end position of each object in the op list, and its time.
  const auto &ops = s.resolved.ops;
  std::vector<std::uint64_t> born_at(s.resolved.objects), born_ns(s.resolved.objects);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op &op = ops[i];
    if (op.old_object != kNoObject) {
      add_bucket(s.lifetime_call_buckets, i - born_at[op.old_object]);
      std::uint64_t t =
          op.time_ns >= born_ns[op.old_object] ? op.time_ns - born_ns[op.old_object] : 0;
      add_bucket(s.lifetime_ns_buckets, t);
      if (s.resolved.object_thread[op.old_object] != op.thread) ++s.cross_thread_frees;
    }
    if (op.object != kNoObject) {
      born_at[op.object] = i;
      born_ns[op.object] = op.time_ns;
    }
  }
  return s;
}

void print_summary(std::ostream &out, const std::string &name, const Summary &s) {
  const ResolvedTrace &r = s.resolved;
  out << "trace " << name << "\n";
  out << "  events           " << s.events << " over " << std::fixed << std::setprecision(3)
      << s.duration_s << " s\n";
  out << "  complete         "
      << (s.complete ? std::string("yes (end record present)")
                     : "NO: no end record (the program did not exit normally, or the disk "
                       "filled); events it still held are lost" +
                           (s.dropped_bytes ? "; " + std::to_string(s.dropped_bytes) +
                                                  " bytes of a chunk cut short"
                                            : std::string()))
      << "\n";
  out << "  threads          " << s.threads.size() << "\n";
  for (const ThreadInfo &t : s.threads) {
    out << "    thread " << t.index << " (tid " << t.tid << "): " << t.events << " events\n";
  }
  out << "calls\n";
  for (unsigned c = 1; c <= format::kMaxCall; ++c) {
    if (s.calls[c] == 0) continue;
    out << "  " << std::left << std::setw(16) << format::call_name(static_cast<Call>(c))
        << std::right << std::setw(12) << s.calls[c] << "\n";
  }
  out << "objects\n";
  out << "  created          " << r.objects << "\n";
  out << "  live at end      " << r.live_at_end << "\n";
  out << "  peak live        " << r.peak_live_objects << " objects, " << r.peak_live_bytes
      << " bytes requested\n";
  out << "  requested total  " << s.total_requested_bytes << " bytes\n";
  out << "  cross-thread frees " << s.cross_thread_frees << "\n";
  out << "  free(NULL)       " << r.null_frees << "\n";
  out << "  untracked frees  " << r.untracked_frees
      << " (pointers allocated before recording started)\n";
  out << "  failed calls     " << r.failed_calls << "\n";
  if (r.lost_frees) out << "  lost frees       " << r.lost_frees << "\n";
  out << "size histogram (requested bytes)\n";
  print_buckets(out, s.size_buckets, [](std::uint64_t v) { return human_bytes(v); });
  out << "lifetime histogram (calls of the whole program between allocation and free)\n";
  print_buckets(out, s.lifetime_call_buckets, [](std::uint64_t v) { return std::to_string(v); });
  out << "lifetime histogram (time)\n";
  print_buckets(out, s.lifetime_ns_buckets, [](std::uint64_t v) { return human_ns(v); });
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> size_counts(const Trace &trace) {
  std::unordered_map<std::uint64_t, std::uint64_t> counts;
  for (const Event &e : trace.events) {
    if (e.call != Call::kFree && e.address != 0) ++counts[e.bytes()];
  }
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out(counts.begin(), counts.end());
  std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}

std::string shipped_trace_dir() {
  if (const char *dir = std::getenv("ALLOCBENCH_TRACE_DIR"); dir && *dir) return dir;
  return ALLOCBENCH_TRACE_SOURCE_DIR;
}

std::string find_trace(const std::string &name_or_path) {
  if (name_or_path.empty()) throw std::invalid_argument("empty trace name");
  if (name_or_path.find('/') != std::string::npos) return name_or_path;
  std::string path = shipped_trace_dir() + "/" + name_or_path + ".abt";
  if (std::ifstream(path).good()) return path;
  if (std::ifstream(name_or_path).good()) return name_or_path;
  throw std::invalid_argument("unknown trace '" + name_or_path + "': not a file and not in " +
                              shipped_trace_dir() + " (shipped traces are NAME.abt there)");
}

std::string check_trace_file(const std::string &name_or_path) {
  std::string shipped;
  {
    std::error_code ec;
    for (const auto &entry : std::filesystem::directory_iterator(shipped_trace_dir(), ec)) {
      if (entry.path().extension() != ".abt") continue;
      shipped += (shipped.empty() ? "" : ", ") + entry.path().stem().string();
    }
  }
  const std::string accepted =
      "accepted: a shipped trace (" + shipped + ") or the path of a trace file";
  std::string path;
  try {
    path = find_trace(name_or_path);
  } catch (const std::exception &) {
    return "no trace '" + name_or_path + "' (" + accepted + ")";
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return "trace file " + path + " cannot be found: " + std::strerror(errno) + " (" + accepted +
           ")";
  }
  if (!S_ISREG(st.st_mode)) return path + " is not a regular file (" + accepted + ")";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "trace file " + path + " cannot be read: " + std::strerror(errno);
  format::FileHeader header{};
  if (!in.read(reinterpret_cast<char *>(&header), sizeof(header)) ||
      std::memcmp(header.magic, format::kFileMagic, sizeof(header.magic)) != 0) {
    return path + " is not an allocation trace (no ABTRACE1 header)";
  }
  if (header.version != format::kVersion) {
    return path + " has trace format version " + std::to_string(header.version) +
           " (this build reads version " + std::to_string(format::kVersion) + ")";
  }
  return "";
}

}  // namespace allocbench::trace
