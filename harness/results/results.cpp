#include "results.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "metrics.h"
#include "statistics.h"

namespace allocbench {

std::string BenchmarkId::key() const {
  // An empty size (microbenchmarks: the size is part of their name) is left out:
  // "micro/bench=BM_malloc_free/64/threads=1" (RESULTS.md).
  std::string key = workload;
  char separator = '/';
  if (!size.empty()) {
    key += fmt::format("/size={}", size);
    separator = ',';
  }
  for (const auto &[name, value] : params) {
    key += fmt::format("{}{}={}", separator, name, value);
    separator = ',';
  }
  key += fmt::format("/threads={}", threads);
  return key;
}

std::string BenchmarkId::params_text() const {
  std::string text;
  for (const auto &[name, value] : params) {
    if (!text.empty()) text += ';';
    text += name + '=' + value;
  }
  return text;
}

const MetricStats *Summary::find(const std::string &metric) const {
  for (const auto &[name, s] : stats)
    if (name == metric) return &s;
  return nullptr;
}

std::optional<double> metric_value(const RunMetrics &m, const std::string &name) {
  auto u = [](const std::optional<std::uint64_t> &v) -> std::optional<double> {
    if (!v) return std::nullopt;
    return static_cast<double>(*v);
  };
  if (name == "ops") return u(m.ops);
  if (name == "allocs") return u(m.allocs);
  if (name == "frees") return u(m.frees);
  if (name == "wall_s") return m.wall_s;
  if (name == "ops_per_s") return m.ops_per_s;
  if (name == "user_s") return m.user_s;
  if (name == "sys_s") return m.sys_s;
  if (name == "peak_rss_kib") return u(m.peak_rss_kib);
  if (name == "minor_faults") return u(m.minor_faults);
  if (name == "major_faults") return u(m.major_faults);
  if (name == "vol_ctx_switches") return u(m.vol_ctx_switches);
  if (name == "invol_ctx_switches") return u(m.invol_ctx_switches);
  if (name == "peak_live_bytes") return u(m.peak_live_bytes);
  if (name == "mem_efficiency") return m.mem_efficiency;
  throw std::invalid_argument(fmt::format("unknown metric '{}'", name));
}

void derive_metrics(RunMetrics &m) {
  if (m.allocs && m.frees) m.ops = *m.allocs + *m.frees;
  if (m.ops && m.wall_s && *m.wall_s > 0) m.ops_per_s = static_cast<double>(*m.ops) / *m.wall_s;
  if (m.peak_rss_kib && m.peak_live_bytes && *m.peak_live_bytes > 0)
    m.mem_efficiency =
        static_cast<double>(*m.peak_rss_kib) * 1024.0 / static_cast<double>(*m.peak_live_bytes);
}

std::vector<Summary> summarize(const std::vector<RunRecord> &runs) {
  struct Group {
    const RunRecord *first;
    std::vector<const RunRecord *> members;
  };
  std::vector<Group> groups;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (const RunRecord &run : runs) {
    auto key = std::make_pair(run.id.key(), run.allocator);
    auto [it, inserted] = index.emplace(key, groups.size());
    if (inserted) groups.push_back({&run, {}});
    groups[it->second].members.push_back(&run);
  }
  std::vector<Summary> summaries;
  for (const Group &g : groups) {
    Summary s;
    s.id = g.first->id;
    s.allocator = g.first->allocator;
    for (const RunRecord *r : g.members) (r->ok ? s.n : s.failed)++;
    for (const std::string &metric : summarised_metric_names()) {
      std::vector<double> values;
      for (const RunRecord *r : g.members) {
        if (!r->ok) continue;
        if (auto v = metric_value(r->metrics, metric)) values.push_back(*v);
      }
      if (!values.empty()) s.stats.emplace_back(metric, compute_stats(values));
    }
    summaries.push_back(std::move(s));
  }
  return summaries;
}

// ---- JSON out ----

namespace {

template <typename T>
Json opt(const std::optional<T> &v) {
  return v ? Json(*v) : Json(nullptr);
}

Json params_json(const BenchmarkId &id) {
  Json params = Json::object();
  for (const auto &[name, value] : id.params) params[name] = value;
  return params;
}

Json metrics_json(const RunMetrics &m) {
  Json j = Json::object();
  j["ops"] = opt(m.ops);
  j["allocs"] = opt(m.allocs);
  j["frees"] = opt(m.frees);
  j["wall_s"] = opt(m.wall_s);
  j["ops_per_s"] = opt(m.ops_per_s);
  j["user_s"] = opt(m.user_s);
  j["sys_s"] = opt(m.sys_s);
  j["peak_rss_kib"] = opt(m.peak_rss_kib);
  j["minor_faults"] = opt(m.minor_faults);
  j["major_faults"] = opt(m.major_faults);
  j["vol_ctx_switches"] = opt(m.vol_ctx_switches);
  j["invol_ctx_switches"] = opt(m.invol_ctx_switches);
  j["peak_live_bytes"] = opt(m.peak_live_bytes);
  j["mem_efficiency"] = opt(m.mem_efficiency);
  return j;
}

// The fields that name a benchmark and its allocator, first in every run and summary.
Json identity_json(const BenchmarkId &id, const std::string &allocator) {
  Json j = Json::object();
  j["benchmark"] = id.key();
  j["workload"] = id.workload;
  j["params"] = params_json(id);
  j["size"] = id.size;
  j["allocator"] = allocator;
  j["threads"] = id.threads;
  return j;
}

}  // namespace

Json to_json(const RunRecord &run) {
  Json j = identity_json(run.id, run.allocator);
  j["repetition"] = run.repetition;
  j["status"] = run.ok ? "ok" : "failed";
  j["error"] = run.ok ? Json(nullptr) : Json(run.error);
  j["metrics"] = metrics_json(run.metrics);
  if (run.latency_ns) {
    const LatencySummary &l = *run.latency_ns;
    j["latency_ns"] = {{"p50", l.p50},         {"p99", l.p99},
                       {"p999", l.p999},       {"max", l.max},
                       {"samples", l.samples}, {"sampling_overhead_ns", l.sampling_overhead_ns}};
  } else {
    j["latency_ns"] = nullptr;
  }
  if (run.rss_timeline) {
    j["rss_timeline"] = {{"interval_ms", run.rss_timeline->interval_ms},
                         {"t_ms", run.rss_timeline->t_ms},
                         {"rss_kib", run.rss_timeline->rss_kib}};
  } else {
    j["rss_timeline"] = nullptr;
  }
  j["extra"] = Json::object();
  for (const auto &[name, value] : run.extra) j["extra"][name] = value;
  if (run.proof) {
    j["proof"] = {{"malloc_from", run.proof->malloc_from}, {"version", run.proof->version}};
  } else {
    j["proof"] = nullptr;
  }
  return j;
}

Json to_json(const Summary &s) {
  Json j = identity_json(s.id, s.allocator);
  j["n"] = s.n;
  j["failed"] = s.failed;
  j["stats"] = Json::object();
  for (const auto &[name, st] : s.stats) {
    j["stats"][name] = {{"median", st.median},     {"min", st.min},
                        {"max", st.max},           {"mean", st.mean},
                        {"stddev", st.stddev},     {"cv", st.cv},
                        {"ci95_low", st.ci95_low}, {"ci95_high", st.ci95_high}};
  }
  return j;
}

Json to_json(const Context &c) {
  Json j = Json::object();
  j["date"] = c.date;
  j["host"] = c.host;
  j["cpu_model"] = c.cpu_model;
  j["cpu_count"] = c.cpu_count;
  j["kernel"] = c.kernel;
  j["compiler"] = c.compiler;
  j["build_type"] = c.build_type;
  j["git_revision"] = c.git_revision;
  j["allocbench_version"] = c.allocbench_version;
  j["command_line"] = c.command_line;
  if (c.hardware_counters) j["hardware_counters"] = *c.hardware_counters;
  j["allocators"] = Json::object();
  for (const AllocatorInfo &a : c.allocators) {
    Json info = {
        {"library", opt(a.library)}, {"version", opt(a.version)}, {"available", a.available}};
    if (!a.available) info["reason"] = a.reason;
    info["colour"] = opt(a.colour);
    info["marker"] = opt(a.marker);
    j["allocators"][a.name] = std::move(info);
  }
  return j;
}

Json to_json(const ResultSet &r) {
  Json j = Json::object();
  j["schema_version"] = r.schema_version;
  j["context"] = to_json(r.context);
  j["runs"] = Json::array();
  for (const RunRecord &run : r.runs) j["runs"].push_back(to_json(run));
  j["summaries"] = Json::array();
  for (const Summary &s : r.summaries) j["summaries"].push_back(to_json(s));
  return j;
}

// ---- JSON in ----

namespace {

const Json &member(const Json &j, const char *key) {
  if (!j.is_object()) throw std::runtime_error(fmt::format("'{}' is in no object", key));
  auto it = j.find(key);
  if (it == j.end()) throw std::runtime_error(fmt::format("missing key '{}'", key));
  return *it;
}

// The member, which must be an array (an object): null or a number is refused, not read as
// empty.
const Json &array_member(const Json &j, const char *key) {
  const Json &m = member(j, key);
  if (!m.is_array())
    throw std::runtime_error(fmt::format("key '{}' is {}, not an array", key, m.type_name()));
  return m;
}

const Json &object_member(const Json &j, const char *key) {
  const Json &m = member(j, key);
  if (!m.is_object())
    throw std::runtime_error(fmt::format("key '{}' is {}, not an object", key, m.type_name()));
  return m;
}

template <typename T>
T get(const Json &j, const char *key) {
  try {
    return member(j, key).get<T>();
  } catch (const nlohmann::json::exception &e) {
    throw std::runtime_error(fmt::format("key '{}': {}", key, e.what()));
  }
}

template <typename T>
std::optional<T> get_opt(const Json &j, const char *key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception &e) {
    throw std::runtime_error(fmt::format("key '{}': {}", key, e.what()));
  }
}

// A measured quantity: a finite number, at least `min` (absent or null: not measured).
std::optional<double> measure_opt(const Json &j, const char *key, double min = 0.0) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  const double v = it->is_number() ? it->get<double>() : std::nan("");
  if (!it->is_number() || !std::isfinite(v) || v < min)
    throw std::runtime_error(
        fmt::format("key '{}' is {}, not a finite number >= {}", key, it->dump(), min));
  return v;
}

double measure(const Json &j, const char *key, double min = 0.0) {
  if (auto v = measure_opt(j, key, min)) return *v;
  throw std::runtime_error(fmt::format("missing key '{}'", key));
}

// A count: a non-negative integer.
std::optional<std::uint64_t> count_opt(const Json &j, const char *key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_unsigned())
    throw std::runtime_error(
        fmt::format("key '{}' is {}, not a non-negative integer", key, it->dump()));
  return it->get<std::uint64_t>();
}

unsigned small_count(const Json &j, const char *key) {
  const std::optional<std::uint64_t> v = count_opt(j, key);
  if (!v) throw std::runtime_error(fmt::format("missing key '{}'", key));
  if (*v > std::numeric_limits<unsigned>::max())
    throw std::runtime_error(fmt::format("key '{}' is {}, too large", key, *v));
  return static_cast<unsigned>(*v);
}

BenchmarkId id_from_json(const Json &j) {
  BenchmarkId id;
  id.workload = get<std::string>(j, "workload");
  for (const auto &[name, value] : object_member(j, "params").items())
    id.params.emplace_back(name, value.is_string() ? value.get<std::string>() : value.dump());
  id.size = get<std::string>(j, "size");
  id.threads = small_count(j, "threads");
  if (id.threads == 0) throw std::runtime_error("key 'threads' is 0");
  return id;
}

MetricStats stats_from_json(const Json &j) {
  MetricStats s;
  constexpr double kAny = -std::numeric_limits<double>::infinity();
  s.median = measure(j, "median", kAny);
  s.min = measure(j, "min", kAny);
  s.max = measure(j, "max", kAny);
  s.mean = measure(j, "mean", kAny);
  s.stddev = measure(j, "stddev");
  s.cv = measure(j, "cv", kAny);
  s.ci95_low = measure(j, "ci95_low", kAny);
  s.ci95_high = measure(j, "ci95_high", kAny);
  return s;
}

}  // namespace

RunRecord run_from_json(const Json &j) {
  RunRecord r;
  r.id = id_from_json(j);
  r.allocator = get<std::string>(j, "allocator");
  r.repetition = small_count(j, "repetition");
  const std::string status = get<std::string>(j, "status");
  if (status != "ok" && status != "failed")
    throw std::runtime_error(fmt::format("status '{}' (accepted: ok, failed)", status));
  r.ok = status == "ok";
  r.error = get_opt<std::string>(j, "error").value_or("");
  if (auto it = j.find("metrics"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw std::runtime_error("key 'metrics' is not an object");
    const Json &m = *it;
    r.metrics.ops = count_opt(m, "ops");
    r.metrics.allocs = count_opt(m, "allocs");
    r.metrics.frees = count_opt(m, "frees");
    r.metrics.wall_s = measure_opt(m, "wall_s");
    r.metrics.ops_per_s = measure_opt(m, "ops_per_s");
    r.metrics.user_s = measure_opt(m, "user_s");
    r.metrics.sys_s = measure_opt(m, "sys_s");
    r.metrics.peak_rss_kib = count_opt(m, "peak_rss_kib");
    r.metrics.minor_faults = count_opt(m, "minor_faults");
    r.metrics.major_faults = count_opt(m, "major_faults");
    r.metrics.vol_ctx_switches = count_opt(m, "vol_ctx_switches");
    r.metrics.invol_ctx_switches = count_opt(m, "invol_ctx_switches");
    r.metrics.peak_live_bytes = count_opt(m, "peak_live_bytes");
    r.metrics.mem_efficiency = measure_opt(m, "mem_efficiency");
  }
  // A successful repetition did work: its throughput and time are positive.
  if (r.ok &&
      ((r.metrics.ops_per_s && !(*r.metrics.ops_per_s > 0)) ||
       (r.metrics.wall_s && !(*r.metrics.wall_s > 0)) || (r.metrics.ops && *r.metrics.ops == 0)))
    throw std::runtime_error("a run with status ok has zero operations, time or throughput");
  if (auto it = j.find("latency_ns"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw std::runtime_error("key 'latency_ns' is not an object");
    LatencySummary l;
    l.p50 = measure(*it, "p50");
    l.p99 = measure(*it, "p99");
    l.p999 = measure(*it, "p999");
    l.max = measure(*it, "max");
    l.samples = count_opt(*it, "samples").value_or(0);
    l.sampling_overhead_ns = measure_opt(*it, "sampling_overhead_ns").value_or(0.0);
    r.latency_ns = l;
  }
  if (auto it = j.find("rss_timeline"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw std::runtime_error("key 'rss_timeline' is not an object");
    RssTimeline t;
    t.interval_ms = small_count(*it, "interval_ms");
    for (const Json &v : array_member(*it, "t_ms")) {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
        throw std::runtime_error("rss_timeline.t_ms holds a value that is not a time");
      t.t_ms.push_back(v.get<double>());
    }
    for (const Json &v : array_member(*it, "rss_kib")) {
      if (!v.is_number_unsigned())
        throw std::runtime_error("rss_timeline.rss_kib holds a value that is not a size");
      t.rss_kib.push_back(v.get<std::uint64_t>());
    }
    if (t.t_ms.size() != t.rss_kib.size())
      throw std::runtime_error("rss_timeline.t_ms and rss_kib differ in length");
    r.rss_timeline = std::move(t);
  }
  if (auto it = j.find("extra"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw std::runtime_error("key 'extra' is not an object");
    for (const auto &[name, value] : it->items())
      r.extra[name] = measure(*it, name.c_str(), -std::numeric_limits<double>::infinity());
  }
  if (auto it = j.find("proof"); it != j.end() && it->is_object())
    r.proof =
        AllocatorProof{get<std::string>(*it, "malloc_from"), get<std::string>(*it, "version")};
  return r;
}

Summary summary_from_json(const Json &j) {
  Summary s;
  s.id = id_from_json(j);
  s.allocator = get<std::string>(j, "allocator");
  s.n = small_count(j, "n");
  s.failed = small_count(j, "failed");
  for (const auto &[name, value] : object_member(j, "stats").items())
    s.stats.emplace_back(name, stats_from_json(value));
  return s;
}

Context context_from_json(const Json &j) {
  Context c;
  c.date = get<std::string>(j, "date");
  c.host = get<std::string>(j, "host");
  c.cpu_model = get<std::string>(j, "cpu_model");
  c.cpu_count = small_count(j, "cpu_count");
  c.kernel = get<std::string>(j, "kernel");
  c.compiler = get<std::string>(j, "compiler");
  c.build_type = get<std::string>(j, "build_type");
  c.git_revision = get<std::string>(j, "git_revision");
  c.allocbench_version = get<std::string>(j, "allocbench_version");
  c.command_line = get<std::string>(j, "command_line");
  c.hardware_counters = get_opt<std::string>(j, "hardware_counters");
  for (const auto &[name, value] : object_member(j, "allocators").items()) {
    AllocatorInfo a;
    a.name = name;
    a.library = get_opt<std::string>(value, "library");
    a.version = get_opt<std::string>(value, "version");
    a.available = get<bool>(value, "available");
    a.reason = get_opt<std::string>(value, "reason").value_or("");
    a.colour = get_opt<std::string>(value, "colour");
    a.marker = get_opt<std::string>(value, "marker");
    c.allocators.push_back(std::move(a));
  }
  return c;
}

namespace {

// Before version 3 no benchmark key named the touch level: every workload wrote every byte
// of its objects, except large (which named its level) and trace-replay, which wrote its
// objects' ends and a word per page (touch=pages, with 16-byte ends as today).
void add_touch_of_version_2(BenchmarkId &id) {
  if (id.workload == "micro" || id.workload == "program") return;
  for (const auto &[name, value] : id.params)
    if (name == "touch") return;
  id.params.emplace_back("touch", id.workload == "trace-replay" ? "pages" : "full");
}

}  // namespace

ResultSet result_set_from_json(const Json &j) {
  ResultSet r;
  if (!j.is_object()) throw std::runtime_error("the document is not a JSON object");
  const Json &version = member(j, "schema_version");
  if (!version.is_number_integer() || version.get<std::int64_t>() < kOldestSchemaVersion ||
      version.get<std::int64_t>() > kSchemaVersion)
    throw std::runtime_error(fmt::format("schema_version {} (this allocbench reads {} to {})",
                                         version.dump(), kOldestSchemaVersion, kSchemaVersion));
  const bool before_touch = version.get<std::int64_t>() < 3;
  r.schema_version = kSchemaVersion;
  r.context = context_from_json(object_member(j, "context"));
  std::size_t index = 0;
  for (const Json &run : array_member(j, "runs")) {
    try {
      r.runs.push_back(run_from_json(run));
      if (before_touch) add_touch_of_version_2(r.runs.back().id);
    } catch (const std::exception &e) {
      throw std::runtime_error(fmt::format("runs[{}]: {}", index, e.what()));
    }
    ++index;
  }
  index = 0;
  for (const Json &s : array_member(j, "summaries")) {
    try {
      r.summaries.push_back(summary_from_json(s));
      if (before_touch) add_touch_of_version_2(r.summaries.back().id);
    } catch (const std::exception &e) {
      throw std::runtime_error(fmt::format("summaries[{}]: {}", index, e.what()));
    }
    ++index;
  }
  return r;
}

}  // namespace allocbench
