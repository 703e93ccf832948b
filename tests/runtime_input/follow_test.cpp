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
