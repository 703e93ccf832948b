// RecordReader::rescan(): follow mode, one step of `tail -F` at a time. A growing file, a rotated file, and a
// CloudTrail tree whose files arrive while it is read.
#include "test_util.h"

namespace braid::rt::testing {
namespace {

void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

std::vector<std::string> drain(RecordReader& r, std::vector<std::string>* errors = nullptr) {
  if (errors) r.set_error_handler([errors](const InputError& e) { errors->push_back(e.to_string()); });
  std::vector<std::string> out;
  Record rec;
  while (r.next(rec)) out.emplace_back(rec.json());
  return out;
}

TEST(Follow, GrowingFile) {
  TempDir d;
  write_file(d.file("a.ndjson"), "{\"n\":1}\n{\"n\":2}\n");
  RecordReader r;
  r.add_path(d.file("a.ndjson"));
  EXPECT_EQ(drain(r).size(), 2u);
  r.rescan();
  EXPECT_TRUE(drain(r).empty());  // nothing new
  append(d.file("a.ndjson"), "{\"n\":3}\n\n{\"n\":4}\n");
  r.rescan();
  std::vector<std::string> errors;
  EXPECT_EQ(drain(r, &errors), (std::vector<std::string>{"{\"n\":3}", "{\"n\":4}"}));
  EXPECT_TRUE(errors.empty());
  // Lines keep their numbers in the file, and one path keeps one index however often it is read again.
  for (int i = 0; i < 5; ++i) r.rescan(), drain(r);
  EXPECT_EQ(r.paths().size(), 1u);
  append(d.file("a.ndjson"), "{\"n\":5}\n");
  r.rescan();
  Record rec;
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec.origin.line, 6u);
  EXPECT_EQ(rec.origin.input, 0u);
}

// ReaderOptions::hold_partial_line: a line still being written is read once its newline arrives, with its own
// line number, and the position stays before it (a restart reads it whole too). Files of a directory are complete.
TEST(Follow, PartialLastLineWaitsForItsNewline) {
  TempDir d;
  write_file(d.file("a.ndjson"), "{\"n\":1}\n{\"n\":");
  ReaderOptions o;
  o.hold_partial_line = true;
  RecordReader r(o);
  r.add_path(d.file("a.ndjson"));
  std::vector<std::string> errors;
  EXPECT_EQ(drain(r, &errors), (std::vector<std::string>{"{\"n\":1}"}));
  std::vector<InputPosition> pos = r.positions();
  ASSERT_EQ(pos.size(), 1u);
  EXPECT_EQ(pos[0].current.offset, 8u);  // before the partial line
  EXPECT_EQ(pos[0].current.line, 1u);
  append(d.file("a.ndjson"), "2}\n{\"n\":3}");
  r.rescan();
  Record rec;
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec.json(), "{\"n\":2}");
  EXPECT_EQ(rec.origin.line, 2u);
  EXPECT_FALSE(r.next(rec));  // {"n":3} has no newline yet
  append(d.file("a.ndjson"), "\n");
  r.rescan();
  EXPECT_EQ(drain(r, &errors), (std::vector<std::string>{"{\"n\":3}"}));
  EXPECT_TRUE(errors.empty());
  // A resumed reader starts before a held line.
  append(d.file("a.ndjson"), "{\"n\":4");
  EXPECT_TRUE(drain(r).empty());
  RecordReader again(o);
  again.add_path(d.file("a.ndjson"));
  again.resume(r.positions());
  append(d.file("a.ndjson"), "}\n");
  EXPECT_EQ(drain(again), (std::vector<std::string>{"{\"n\":4}"}));
  // Without the option the last line is a record; in a directory it is one either way.
  RecordReader plain;
  plain.add_path(d.file("a.ndjson"));
  EXPECT_EQ(drain(plain).size(), 4u);
  write_file(d.file("dir/b.ndjson"), "{\"n\":5}");
  RecordReader dir(o);
  dir.add_path(d.file("dir"));
  EXPECT_EQ(drain(dir), (std::vector<std::string>{"{\"n\":5}"}));
}

TEST(Follow, RotatedFile) {
  TempDir d;
  write_file(d.file("app.log"), "{\"n\":1}\n");
  RecordReader r;
  r.add_path(d.file("app.log"));
  EXPECT_EQ(drain(r).size(), 1u);
  std::filesystem::rename(d.file("app.log"), d.file("app.log.1"));
  write_file(d.file("app.log"), "{\"n\":2}\n{\"n\":3}\n");
  r.rescan();
  std::vector<std::string> errors;
  EXPECT_EQ(drain(r, &errors), (std::vector<std::string>{"{\"n\":2}", "{\"n\":3}"}));
  ASSERT_EQ(errors.size(), 1u);  // the rotation is reported
  EXPECT_NE(errors[0].find("not the one of the saved position"), std::string::npos) << errors[0];
  EXPECT_EQ(r.stats().count(InputErrorKind::Resume), 1u);
  append(d.file("app.log"), "{\"n\":4}\n");
  r.rescan();
  EXPECT_EQ(drain(r), (std::vector<std::string>{"{\"n\":4}"}));
}

TEST(Follow, FileThatAppearsLater) {
  TempDir d;
  RecordReader r;
  r.add_path(d.file("late.ndjson"));
  std::vector<std::string> errors;
  EXPECT_TRUE(drain(r, &errors).empty());
  EXPECT_EQ(errors.size(), 1u);  // cannot open (yet)
  write_file(d.file("late.ndjson"), "{\"n\":1}\n");
  r.rescan();
  EXPECT_EQ(drain(r).size(), 1u);
}

TEST(Follow, TreeAsFilesArrive) {
  TempDir d;
  auto ct = [&](const std::string& region, const std::string& stamp, const std::string& name) {
    std::string rel = "t/AWSLogs/111122223333/CloudTrail/" + region + "/" + stamp.substr(0, 4) + "/" +
                      stamp.substr(4, 2) + "/" + stamp.substr(6, 2) + "/111122223333_CloudTrail_" + region + "_" +
                      stamp + "_x" + name + ".json.gz";
    write_file(d.file(rel), gzip("{\"Records\":[{\"n\":\"" + name + "\"}]}"));
  };
  ct("us-east-1", "20261201T0000Z", "1");
  ct("eu-west-1", "20261201T0005Z", "2");
  RecordReader r;
  r.add_path(d.file("t"));
  EXPECT_EQ(drain(r).size(), 2u);
  // Delivered next: one file per region, the later region's first; read in time order.
  ct("eu-west-1", "20261201T0015Z", "4");
  ct("us-east-1", "20261201T0010Z", "3");
  r.rescan();
  std::vector<std::string> errors;
  EXPECT_EQ(drain(r, &errors), (std::vector<std::string>{"{\"n\":\"3\"}", "{\"n\":\"4\"}"}));
  EXPECT_TRUE(errors.empty());
  r.rescan();
  EXPECT_TRUE(drain(r).empty());  // each file once
  auto pos = r.positions();
  ASSERT_EQ(pos[0].marks.size(), 2u);  // the state stays one mark per account and region
}

TEST(Follow, StreamsAreNotReadAgain) {
  RecordReader r;
  r.add_buffer("{\"n\":1}\n", "buf");
  EXPECT_EQ(drain(r).size(), 1u);
  r.rescan();
  EXPECT_TRUE(drain(r).empty());
}

}  // namespace
}  // namespace braid::rt::testing
