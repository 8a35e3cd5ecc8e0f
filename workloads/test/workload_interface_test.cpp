// The workload interface: random numbers, size distributions, parameters, the registry
// and the shared helpers (pattern, stop condition, thread team).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"

namespace allocbench {
namespace {

TEST(Rng, SameSeedSameSequence) {
  Rng a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(Rng, ZeroSeedIsUsable) {
  Rng rng(0);
  std::set<std::uint64_t> values;
  for (int i = 0; i < 100; ++i) values.insert(rng.next());
  EXPECT_EQ(values.size(), 100u);
}

TEST(Rng, UniformStaysInBoundsAndCoversThem) {
  Rng rng(1);
  std::vector<int> hits(11, 0);
  for (int i = 0; i < 20000; ++i) {
    const auto v = rng.uniform(10, 20);
    ASSERT_GE(v, 10u);
    ASSERT_LE(v, 20u);
    ++hits[v - 10];
  }
  for (int h : hits) EXPECT_GT(h, 20000 / 11 / 2);  // every value, roughly evenly
  EXPECT_EQ(rng.uniform(5, 5), 5u);
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.uniform01();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(ThreadSeed, DiffersPerThreadAndSeed) {
  EXPECT_NE(thread_seed(42, 0), thread_seed(42, 1));
  EXPECT_NE(thread_seed(42, 0), thread_seed(43, 0));
  EXPECT_EQ(thread_seed(42, 3), thread_seed(42, 3));
}

TEST(SizeDistribution, ParsesFixedRangesAndUnits) {
  auto d = SizeDistribution::parse("64");
  EXPECT_EQ(d.min(), 64u);
  EXPECT_EQ(d.max(), 64u);
  EXPECT_EQ(d.text(), "64");
  d = SizeDistribution::parse(" 16..512 ");
  EXPECT_EQ(d.min(), 16u);
  EXPECT_EQ(d.max(), 512u);
  EXPECT_EQ(d.text(), "16..512");
  EXPECT_DOUBLE_EQ(d.mean(), 264.0);
  d = SizeDistribution::parse("16K..4M");
  EXPECT_EQ(d.min(), 16384u);
  EXPECT_EQ(d.max(), 4194304u);
  EXPECT_EQ(d.text(), "16384..4194304");
  EXPECT_EQ(SizeDistribution::parse("1KiB").min(), 1024u);
  EXPECT_EQ(SizeDistribution::parse("1G").min(), std::size_t{1} << 30);
  // The canonical text parses back to the same distribution.
  EXPECT_EQ(SizeDistribution::parse(SizeDistribution::parse("2k..3k").text()).max(), 3072u);
  // A range of one size is that fixed size.
  EXPECT_EQ(SizeDistribution::parse("32..32").text(), "32");
}

void expect_refused(const std::string &text, const std::string &message_part) {
  try {
    SizeDistribution::parse(text);
    ADD_FAILURE() << "'" << text << "' was accepted";
  } catch (const std::invalid_argument &e) {
    EXPECT_NE(std::string(e.what()).find(message_part), std::string::npos)
        << "'" << text << "': " << e.what();
  }
}

TEST(SizeDistribution, RefusesBadFormsWithClearMessages) {
  expect_refused("0", "size 0");
  expect_refused("0..16", "size 0");
  expect_refused("512..16", "minimum above its maximum");
  expect_refused("abc", "neither a size nor a size table");
  expect_refused("abc", "MIN..MAX");  // says what is accepted
  expect_refused("16..", "lacks a bound");
  expect_refused("..16", "lacks a bound");
  expect_refused("", "empty size");
  expect_refused("99999999999999999999999", "above the limit");
  expect_refused("2G", "above the limit");
  expect_refused("1073741825", "above the limit");
  expect_refused("16..99999999999", "above the limit");
  expect_refused("12x", "unknown unit");
  expect_refused("-5", "neither a size nor a size table");
  expect_refused("1..2..3", "not a size");
  EXPECT_THROW(SizeDistribution::fixed(0), std::invalid_argument);
  EXPECT_THROW(SizeDistribution::uniform(9, 8), std::invalid_argument);
}

TEST(SizeDistribution, SamplesStayInBounds) {
  Rng rng(3);
  const auto d = SizeDistribution::parse("16..512");
  std::size_t lo = 1 << 30, hi = 0;
  for (int i = 0; i < 10000; ++i) {
    const auto s = d.sample(rng);
    ASSERT_GE(s, 16u);
    ASSERT_LE(s, 512u);
    lo = std::min(lo, s);
    hi = std::max(hi, s);
  }
  EXPECT_LT(lo, 30u);
  EXPECT_GT(hi, 500u);
  const auto f = SizeDistribution::fixed(48);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(f.sample(rng), 48u);
}

TEST(SizeDistribution, TablesFollowTheirWeights) {
  const auto d = SizeDistribution::table("test-three", {{8, 1.0}, {64, 2.0}, {4096, 1.0}});
  EXPECT_EQ(d.min(), 8u);
  EXPECT_EQ(d.max(), 4096u);
  EXPECT_EQ(d.text(), "test-three");
  EXPECT_DOUBLE_EQ(d.mean(), (8 * 1.0 + 64 * 2.0 + 4096 * 1.0) / 4);
  Rng rng(5);
  int counts[3] = {0, 0, 0};
  constexpr int kSamples = 40000;
  for (int i = 0; i < kSamples; ++i) {
    const auto s = d.sample(rng);
    ASSERT_TRUE(s == 8 || s == 64 || s == 4096) << s;
    ++counts[s == 8 ? 0 : s == 64 ? 1 : 2];
  }
  EXPECT_NEAR(counts[0] / double(kSamples), 0.25, 0.02);
  EXPECT_NEAR(counts[1] / double(kSamples), 0.50, 0.02);
  EXPECT_NEAR(counts[2] / double(kSamples), 0.25, 0.02);
}

TEST(SizeDistribution, TableRegistryAndRefusals) {
  SizeDistribution::register_table("test-registered", {{24, 3.0}, {100, 1.0}}, "for the test");
  const auto d = SizeDistribution::parse("test-registered");
  EXPECT_EQ(d.min(), 24u);
  EXPECT_EQ(d.max(), 100u);
  const auto names = SizeDistribution::table_names();
  EXPECT_TRUE(std::any_of(names.begin(), names.end(), [](const auto &n) {
    return n.first == "test-registered" && n.second == "for the test";
  }));
  EXPECT_THROW(SizeDistribution::register_table("test-registered", {{1, 1.0}}, ""),
               std::invalid_argument);
  EXPECT_THROW(SizeDistribution::table("empty", {}), std::invalid_argument);
  EXPECT_THROW(SizeDistribution::table("zero-size", {{0, 1.0}}), std::invalid_argument);
  EXPECT_THROW(SizeDistribution::table("bad-weight", {{8, 0.0}}), std::invalid_argument);
  EXPECT_THROW(SizeDistribution::table("bad-weight", {{8, -1.0}}), std::invalid_argument);
  EXPECT_THROW(SizeDistribution::table("9lives", {{8, 1.0}}), std::invalid_argument);
  EXPECT_THROW(SizeDistribution::table("a..b", {{8, 1.0}}), std::invalid_argument);
  // Unknown names are refused with the list of tables.
  expect_refused("no-such-table", "test-registered");
}

TEST(SizeDistribution, ShippedTablesParse) {
  for (const auto &[name, description] : SizeDistribution::table_names()) {
    EXPECT_FALSE(description.empty()) << name;
    const auto d = SizeDistribution::parse(name);
    EXPECT_GE(d.min(), 1u);
    EXPECT_GE(d.max(), d.min());
    EXPECT_GE(d.mean(), static_cast<double>(d.min()));
    EXPECT_LE(d.mean(), static_cast<double>(d.max()));
  }
}

// A workload declaring one parameter of each type, to test bind() alone.
class ParamsWorkload final : public Workload {
 public:
  std::string name() const override { return "params-test"; }
  std::string description() const override { return "declares one parameter of each type"; }
  std::vector<ParamSpec> workload_params() const override {
    return {
        {"count", ParamSpec::Type::kInt, "10", "objects", "how many", {}, 1, 1000},
        {"ratio", ParamSpec::Type::kDouble, "0.5", "", "a fraction", {}, 0.0, 1.0},
        {"zeroed", ParamSpec::Type::kBool, "false", "", "a switch"},
        {"order", ParamSpec::Type::kString, "forward", "", "an order", {"forward", "reverse"}},
        {"label", ParamSpec::Type::kString, "x", "", "any text"},
    };
  }
  std::string default_size() const override { return "64"; }
  std::uint64_t default_ops() const override { return 1; }
  WorkloadResult run(const RunConfig &) const override { return {}; }
};

TEST(Bind, AppliesDefaultsInDeclaredOrder) {
  const ParamsWorkload w;
  const ParamValues values = w.bind({});
  // The workload's own, then those every workload takes.
  ASSERT_EQ(values.items().size(), 6u);
  EXPECT_EQ(values.items()[0].first, "count");
  EXPECT_EQ(values.items()[4].first, "label");
  EXPECT_EQ(values.items()[5], std::make_pair(std::string("touch"), std::string("full")));
  EXPECT_EQ(values.get_int("count"), 10);
  EXPECT_DOUBLE_EQ(values.get_double("ratio"), 0.5);
  EXPECT_FALSE(values.get_bool("zeroed"));
  EXPECT_EQ(values.get_string("order"), "forward");
}

TEST(Bind, AcceptsAndNormalisesGivenValues) {
  const ParamsWorkload w;
  const ParamValues values =
      w.bind({{"count", "1000"}, {"ratio", "0.25"}, {"zeroed", "yes"}, {"order", "reverse"}});
  EXPECT_EQ(values.get_int("count"), 1000);
  EXPECT_DOUBLE_EQ(values.get_double("ratio"), 0.25);
  EXPECT_TRUE(values.get_bool("zeroed"));
  EXPECT_EQ(values.items()[2].second, "true");
  EXPECT_EQ(values.get_string("order"), "reverse");
  EXPECT_TRUE(w.bind({{"zeroed", "ON"}}).get_bool("zeroed"));
  EXPECT_FALSE(w.bind({{"zeroed", "0"}}).get_bool("zeroed"));
}

void expect_bind_refused(const std::map<std::string, std::string> &given,
                         const std::vector<std::string> &message_parts) {
  const ParamsWorkload w;
  try {
    w.bind(given);
    ADD_FAILURE() << "accepted";
  } catch (const std::invalid_argument &e) {
    for (const auto &part : message_parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }
}

TEST(Bind, RefusesUnknownNamesAndWrongTypes) {
  expect_bind_refused({{"colour", "red"}},
                      {"no parameter 'colour'", "count, ratio, zeroed, order, label"});
  expect_bind_refused({{"count", "abc"}}, {"'count'", "integer", "abc"});
  expect_bind_refused({{"count", "1.5"}}, {"integer"});
  expect_bind_refused({{"count", ""}}, {"integer"});
  expect_bind_refused({{"count", "0"}}, {"from 1 to 1000"});
  expect_bind_refused({{"count", "1001"}}, {"from 1 to 1000"});
  expect_bind_refused({{"count", "99999999999999999999"}}, {"integer"});
  expect_bind_refused({{"ratio", "x"}}, {"number"});
  expect_bind_refused({{"ratio", "nan"}}, {"number"});
  expect_bind_refused({{"ratio", "1.5"}}, {"from 0 to 1"});
  expect_bind_refused({{"zeroed", "maybe"}}, {"true or false"});
  expect_bind_refused({{"order", "sideways"}}, {"one of forward, reverse", "sideways"});
}

// Every parameter of every registered workload says what it accepts, so that bind() can
// refuse every bad value at parse time; a declaration that does not is refused.
TEST(Bind, EveryRegisteredParameterDeclaresWhatItAccepts) {
  for (const Workload *w : WorkloadRegistry::instance().all())
    for (const ParamSpec &spec : w->params())
      EXPECT_EQ(declaration_problem(spec), "") << w->name() << " " << spec.name;
  EXPECT_NE(declaration_problem({"n", ParamSpec::Type::kInt, "1", "", "no range"}), "");
  EXPECT_NE(declaration_problem({"n", ParamSpec::Type::kInt, "1", "", "no max", {}, 1}), "");
  EXPECT_NE(declaration_problem({"s", ParamSpec::Type::kString, "x", "", "any text"}), "");
  EXPECT_NE(declaration_problem({"n", ParamSpec::Type::kInt, "0", "", "bad default", {}, 1, 9}),
            "");
  EXPECT_EQ(declaration_problem({"n", ParamSpec::Type::kInt, "1", "", "fine", {}, 1, 9}), "");
}

// Values that once failed every run late ("content check failed") are refused by bind().
TEST(Bind, RefusesBadValuesOfTheShippedWorkloads) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"false-sharing", "mode", "bogus"},    {"large", "touch", "bogus"},
      {"locality", "node_size", "8"},        {"phased", "survive", "200"},
      {"long-lived", "keep_one_in", "0"},    {"trace-replay", "trace", "/nonexistent.abt"},
      {"trace-replay", "trace", "/tmp"},     {"group-free", "group", "0"},
      {"false-sharing", "objects", "0"},     {"locality", "interleave", "-1"},
      {"realloc-grow", "pattern", "zigzag"}, {"larson", "rounds", "0"},
  };
  for (const auto &[workload, name, value] : cases) {
    const Workload *w = WorkloadRegistry::instance().find(workload);
    ASSERT_NE(w, nullptr) << workload;
    EXPECT_THROW(w->bind({{name, value}}), std::invalid_argument)
        << workload << " " << name << "=" << value;
  }
  EXPECT_NO_THROW(WorkloadRegistry::instance().find("trace-replay")->bind({{"trace", "gcc"}}));
}

TEST(Bind, TypeNamesForListings) {
  EXPECT_EQ(to_string(ParamSpec::Type::kInt), "int");
  EXPECT_EQ(to_string(ParamSpec::Type::kDouble), "double");
  EXPECT_EQ(to_string(ParamSpec::Type::kBool), "bool");
  EXPECT_EQ(to_string(ParamSpec::Type::kString), "string");
}

TEST(ParamValues, UnboundNamesThrow) {
  const ParamValues empty;
  EXPECT_THROW(empty.get_int("group"), std::out_of_range);
  EXPECT_THROW(empty.get_string("group"), std::out_of_range);
}

TEST(Registry, EveryWorkloadOnceWithUsableDeclarations) {
  const auto all = WorkloadRegistry::instance().all();
  ASSERT_FALSE(all.empty());
  std::set<std::string> names;
  for (const Workload *w : all) {
    SCOPED_TRACE(w->name());
    EXPECT_TRUE(names.insert(w->name()).second) << "listed twice";
    EXPECT_EQ(WorkloadRegistry::instance().find(w->name()), w);
    EXPECT_FALSE(w->description().empty());
    EXPECT_EQ(w->description().find('\n'), std::string::npos) << "one line";
    EXPECT_NO_THROW(SizeDistribution::parse(w->default_size()));
    std::set<std::string> params;
    for (const auto &spec : w->params()) {
      EXPECT_TRUE(params.insert(spec.name).second) << spec.name << " declared twice";
      EXPECT_FALSE(spec.description.empty()) << spec.name;
    }
    EXPECT_NO_THROW(w->bind({}));
  }
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const Workload *a, const Workload *b) {
    return a->name() < b->name();
  }));
  EXPECT_EQ(WorkloadRegistry::instance().find("no-such-workload"), nullptr);
}

TEST(Registry, HoldsTheCoreWorkloads) {
  for (const char *name : {"group-free", "alloc-free", "random-lifetime", "producer-consumer",
                           "larson", "realloc-grow"}) {
    EXPECT_NE(WorkloadRegistry::instance().find(name), nullptr) << name;
  }
}

TEST(Pattern, FillsAndChecks) {
  std::vector<unsigned char> buffer(1000);
  for (std::size_t size : {1u, 7u, 8u, 9u, 63u, 64u, 257u, 999u}) {
    SCOPED_TRACE(size);
    const auto key = pattern_key(buffer.data(), size);
    pattern_fill(buffer.data(), size, key);
    EXPECT_FALSE(pattern_check(buffer.data(), size, key));
    EXPECT_TRUE(pattern_check(buffer.data(), size, key + 1));  // another object's pattern
    buffer[size - 1] ^= 0x10;
    const auto m = pattern_check(buffer.data(), size, key);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->offset, size - 1);
    EXPECT_EQ(m->found, m->expected ^ 0x10);
  }
}

TEST(Pattern, ReportsTheFirstMismatch) {
  std::vector<unsigned char> buffer(4096);
  const auto key = pattern_key(buffer.data(), 1);
  pattern_fill(buffer.data(), buffer.size(), key);
  buffer[3000] ^= 1;
  buffer[1234] ^= 0xff;
  const auto m = pattern_check(buffer.data(), buffer.size(), key);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->offset, 1234u);
  const std::string text = describe_mismatch("object", buffer.data(), buffer.size(), *m);
  EXPECT_NE(text.find("offset 1234"), std::string::npos) << text;
  EXPECT_NE(text.find("4096 bytes"), std::string::npos) << text;
}

TEST(Pattern, GrowsPieceByPiece) {
  std::vector<unsigned char> whole(300), pieces(300);
  const auto key = pattern_key(99);
  pattern_fill(whole.data(), whole.size(), key);
  std::size_t at = 0;
  for (std::size_t step : {3u, 5u, 17u, 1u, 100u, 174u}) {
    pattern_fill_range(pieces.data(), at, at + step, key);
    EXPECT_FALSE(pattern_check_range(pieces.data(), at, at + step, key));
    at += step;
  }
  ASSERT_EQ(at, whole.size());
  EXPECT_EQ(whole, pieces);
}

TEST(Pattern, KeysDependOnAddressAndId) {
  int a = 0, b = 0;
  EXPECT_NE(pattern_key(&a, 1), pattern_key(&b, 1));
  EXPECT_NE(pattern_key(&a, 1), pattern_key(&a, 2));
  EXPECT_EQ(pattern_key(&a, 1), pattern_key(&a, 1));
}

// A key of an object that the touch levels write in part, or whole (1 in 16).
std::uint64_t key_of_kind(bool whole) {
  for (std::uint64_t id = 1;; ++id) {
    const std::uint64_t key = pattern_key(id);
    if (((key & 1) != 0) == whole) return key;
  }
}

// The offsets a level writes in a fresh buffer: those whose byte changed from a filler
// that the pattern cannot leave at every byte it writes.
std::vector<std::size_t> written_offsets(Touch touch, std::size_t size, std::uint64_t key) {
  std::vector<std::size_t> offsets;
  for (const unsigned char filler : {0x00, 0xff}) {
    std::vector<unsigned char> buffer(size, filler);
    touch_fill(touch, buffer.data(), size, key);
    for (std::size_t i = 0; i < size; ++i)
      if (buffer[i] != filler) offsets.push_back(i);
  }
  std::sort(offsets.begin(), offsets.end());
  offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
  return offsets;
}

TEST(Touch, EachLevelWritesItsMarks) {
  const std::uint64_t key = key_of_kind(false);
  const std::size_t size = 10000;  // two pages and a part, not a multiple of 8
  auto count = [&](Touch touch) { return written_offsets(touch, size, key).size(); };
  EXPECT_EQ(count(Touch::kFull), size);
  // 16 bytes at each end, and a word at each multiple of the stride between them.
  EXPECT_EQ(count(Touch::kEnds), 32u);
  EXPECT_EQ(count(Touch::kPages), 32u + 8 * 2);    // 4096, 8192
  EXPECT_EQ(count(Touch::kLines), 32u + 8 * 155);  // 64 .. 9920
  const auto lines = written_offsets(Touch::kLines, size, key);
  for (std::size_t line = 0; line < size; line += 64)
    EXPECT_TRUE(std::binary_search(lines.begin(), lines.end(), line)) << line;
  // Small objects are written whole at every level.
  EXPECT_EQ(written_offsets(Touch::kEnds, 32, key).size(), 32u);
  EXPECT_EQ(written_offsets(Touch::kEnds, 33, key).size(), 32u);
  // One object in 16 is written whole at every level.
  EXPECT_EQ(written_offsets(Touch::kEnds, size, key_of_kind(true)).size(), size);
}

TEST(Touch, ChecksWhatItWroteAndOnlyThat) {
  for (Touch touch : {Touch::kFull, Touch::kLines, Touch::kPages, Touch::kEnds}) {
    SCOPED_TRACE(std::string(to_string(touch)));
    const std::uint64_t key = key_of_kind(false);
    const std::size_t size = 9000;
    std::vector<unsigned char> buffer(size, 0);
    touch_fill(touch, buffer.data(), size, key);
    EXPECT_FALSE(touch_check(touch, buffer.data(), size, key));
    EXPECT_TRUE(touch_check(touch, buffer.data(), size, key ^ 2));
    for (std::size_t offset : written_offsets(touch, size, key)) {
      buffer[offset] ^= 0x40;
      const auto m = touch_check(touch, buffer.data(), size, key);
      buffer[offset] ^= 0x40;
      ASSERT_TRUE(m) << offset;
      ASSERT_EQ(m->offset, offset);
    }
    if (touch != Touch::kFull) {
      buffer[100 + 20] ^= 0x40;  // between the marks of every level below full
      EXPECT_FALSE(touch_check(touch, buffer.data(), size, key));
    }
  }
}

TEST(Touch, PiecesMakeTheWholeObject) {
  // A buffer grown piece by piece (realloc-grow) has the marks of its final size.
  for (Touch touch : {Touch::kFull, Touch::kLines, Touch::kPages, Touch::kEnds}) {
    SCOPED_TRACE(std::string(to_string(touch)));
    const std::uint64_t key = key_of_kind(false);
    const std::size_t size = 9000;
    std::vector<unsigned char> whole(size, 0), pieces(size, 0);
    touch_fill(touch, whole.data(), size, key);
    std::size_t at = 0;
    for (std::size_t step : {3u, 61u, 4u, 68u, 4000u, 100u, 4764u}) {
      touch_fill_range(touch, pieces.data(), size, at, at + step, key);
      at += step;
      EXPECT_FALSE(touch_check_range(touch, pieces.data(), size, 0, at, key)) << at;
    }
    ASSERT_EQ(at, size);
    EXPECT_EQ(whole, pieces);
  }
}

TEST(Touch, WholeObjectsAreChosenByIdAlone) {
  int a = 0, b = 0;
  unsigned whole = 0;
  for (std::uint64_t id = 0; id < 16000; ++id) {
    const std::uint64_t key = pattern_key(&a, id);
    EXPECT_EQ(key & 1, pattern_key(&b, id) & 1) << id;
    EXPECT_EQ(key & 1, pattern_key(id) & 1) << id;
    whole += static_cast<unsigned>(key & 1);
  }
  EXPECT_GT(whole, 16000u / 20);
  EXPECT_LT(whole, 16000u / 12);
}

TEST(Touch, LevelsHaveNames) {
  for (Touch touch : {Touch::kFull, Touch::kLines, Touch::kPages, Touch::kEnds})
    EXPECT_EQ(parse_touch(to_string(touch)), touch);
  EXPECT_FALSE(parse_touch("most"));
}

TEST(ZeroCheck, FindsTheFirstNonZeroByte) {
  std::vector<unsigned char> buffer(777, 0);
  EXPECT_FALSE(zero_check(buffer.data(), buffer.size()));
  buffer[500] = 3;
  const auto m = zero_check(buffer.data(), buffer.size());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->offset, 500u);
  EXPECT_EQ(m->found, 3);
}

TEST(StopCondition, SplitsOperationsEvenly) {
  EXPECT_EQ(split_ops(10, 3, 0), 4u);
  EXPECT_EQ(split_ops(10, 3, 1), 3u);
  EXPECT_EQ(split_ops(10, 3, 2), 3u);
  std::uint64_t sum = 0;
  for (unsigned i = 0; i < 7; ++i) sum += split_ops(1000003, 7, i);
  EXPECT_EQ(sum, 1000003u);
  RunConfig config;
  EXPECT_EQ(total_ops(config, 500), 500u);
  config.ops = 20;
  EXPECT_EQ(total_ops(config, 500), 20u);
}

TEST(StopCondition, CountsDownAndStopsOnFailure) {
  RunFailure failure;
  StopCondition stop(100, 0.0, &failure);
  stop.start();
  EXPECT_EQ(stop.remaining(0), 100u);
  EXPECT_EQ(stop.remaining(60), 40u);
  EXPECT_EQ(stop.remaining(100), 0u);
  EXPECT_EQ(stop.remaining(150), 0u);
  failure.fail("first");
  failure.fail("second");
  EXPECT_EQ(stop.remaining(0), 0u);
  EXPECT_EQ(failure.message(), "first");
}

TEST(StopCondition, TimedRunEndsAfterItsDuration) {
  StopCondition stop(0, 0.02, nullptr);
  stop.start();
  EXPECT_TRUE(stop.timed());
  std::uint64_t ops = 0;
  while (stop.remaining(ops) != 0) ++ops;  // ends: the clock is read every 256 ops
  EXPECT_GT(ops, 0u);
}

TEST(RunThreads, StartsEveryThreadAndSumsCounters) {
  RunConfig config;
  config.threads = 3;
  config.ops = 30;
  std::atomic<unsigned> seen{0};
  const auto result = run_threads(config, 3, even_split(config, 1), [&](ThreadContext &ctx) {
    seen.fetch_or(1u << ctx.index);
    EXPECT_EQ(ctx.threads, 3u);
    while (ctx.remaining() != 0) {
      ctx.counters.on_alloc(10);
      ctx.counters.on_free(10);
    }
    ctx.extra["loops"] += 1;
  });
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(seen.load(), 7u);
  EXPECT_EQ(result.allocs, 15u);
  EXPECT_EQ(result.frees, 15u);
  EXPECT_EQ(result.peak_live_bytes, 30u);  // summed per-thread peaks of 10 bytes
  EXPECT_DOUBLE_EQ(result.extra.at("loops"), 3.0);
  EXPECT_GE(result.wall_s, 0.0);
}

TEST(RunThreads, ExceptionsAndFailuresBecomeErrors) {
  RunConfig config;
  config.threads = 2;
  auto result = run_threads(config, 2, even_split(config, 10), [](ThreadContext &ctx) {
    if (ctx.index == 1) throw std::runtime_error("boom");
  });
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("boom"), std::string::npos) << result.error;
  result = run_threads(config, 2, even_split(config, 10),
                       [](ThreadContext &ctx) { ctx.fail("bad content"); });
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "bad content");
}

// Workloads whose threads meet at barriers (false-sharing, trace-replay) hang unless every
// thread runs its body, also after another thread has already failed.
TEST(RunThreads, EveryThreadRunsItsBodyAfterAnEarlyFailure) {
  RunConfig config;
  config.threads = 4;
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::atomic<unsigned> ran{0};
    const auto result = run_threads(config, 4, even_split(config, 10), [&](ThreadContext &ctx) {
      if (ctx.index == 0) ctx.fail("early failure");
      ran.fetch_add(1);
      // A barrier that gives up after a while, so that a regression fails instead of hanging.
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (ran.load() < 4 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::yield();
      }
    });
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.error, "early failure");
    ASSERT_EQ(ran.load(), 4u) << "attempt " << attempt;
  }
}

// Fast operations first, then slow ones: a timed run still ends about one slow operation
// after its duration (a clock read every N operations would overshoot by N slow ones).
TEST(RunThreads, TimedRunEndsWithinOneOperationOfItsDuration) {
  RunConfig config;
  config.threads = 2;
  config.duration_s = 0.02;
  const auto result = run_threads(config, 2, even_split(config, 1), [](ThreadContext &ctx) {
    const auto slow_from = std::chrono::steady_clock::now() + std::chrono::milliseconds(5);
    while (ctx.remaining() != 0) {
      if (std::chrono::steady_clock::now() >= slow_from) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      ctx.counters.on_alloc(1);
      ctx.counters.on_free(1);
    }
  });
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_GE(result.wall_s, 0.02);
  EXPECT_LT(result.wall_s, 0.5);
}

}  // namespace
}  // namespace allocbench
