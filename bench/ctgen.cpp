// braid_bench_ctgen: seeded synthetic CloudTrail NDJSON for the engine benchmark (bench/engine.sh).
//
//   braid_bench_ctgen [--mb N] [--seed S] [-o FILE]
//       A CloudTrail-like stream of about N MiB (default 200; stops at the first record that reaches it), one
//       management or data event per line, about 1.4 KB each, shaped like a busy AWS organisation: 12 accounts, a
//       population of 3,000 identities (IAM users, assumed roles, AWS services, root) drawn Zipf-like so sessions
//       have realistic skew, about 80 API calls over 17 services with realistic weights, 4% errors, console
//       sign-ins (15% without MFA), AssumeRole calls that mint credentials, S3 data events with resources, and
//       event time advancing 1 to 39 ms a record. Rare events are planted at known low rates so a filter has a
//       small, non-zero selectivity. The same seed gives the same bytes. To stderr: events, bytes, the average
//       record size, and the records the benchmark filter selects (StopLogging, ConsoleLogin with MFAUsed "No").
//       The shape follows the reference generator of issue 9's figures (../shared/perf-reference), so figures
//       can be compared; the bytes differ (another random generator).
//
//   braid_bench_ctgen --credentials N [--spacing-ms MS] [--seed S] [-o FILE]
//       The memory stream: N events, each from its own temporary credential (its own ASIA access key and its own
//       assumed-role session ARN), a GetObject on S3, MS milliseconds apart (default 900), so every event opens a
//       session of its own and no two share one. Streams (constant memory), so it can feed `braid run -`.
//
//   braid_bench_ctgen --dump-rules N
//       The N-rule file of bench/rulegen.cpp (the same as `bench/run.sh --dump-rules=N`).
//
//   braid_bench_ctgen --dump-literal-rules N
//       N event rules on aws.cloudtrail in the shape of "offensive tool user agent" detections: each needs a
//       literal of its own in `userAgent` (contains~, startswith, like, endswith or contains): no exact value to
//       index, so without the literal prefilter every rule is evaluated on every event. One rule in 100 names an
//       agent the stream has (Terraform, Boto3, aws-cli, ...), so some fire.
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "rulegen.h"

namespace {

// xoshiro256** seeded with splitmix64: fast, and the same sequence on every platform.
struct Rng {
  uint64_t s[4];
  explicit Rng(uint64_t seed) {
    for (auto& x : s) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      x = z ^ (z >> 31);
    }
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t r = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
  }
  uint64_t below(uint64_t n) { return next() % n; }                 // [0, n)
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo))); }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }
};

// Weighted choice over a fixed table (cumulative weights, binary search).
struct Weighted {
  std::vector<double> cum;
  void add(double w) { cum.push_back((cum.empty() ? 0.0 : cum.back()) + w); }
  size_t pick(Rng& r) const {
    double x = r.unit() * cum.back();
    size_t lo = 0, hi = cum.size() - 1;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
};

// The output line. Every generated string is plain ASCII without quotes or backslashes, so no escaping is needed.
struct Out {
  std::string b;
  Out& raw(std::string_view s) { b.append(s); return *this; }
  Out& str(std::string_view s) { b += '"'; b.append(s); b += '"'; return *this; }
  Out& key(std::string_view k) {  // ,"k": (no comma after '{' or '[')
    if (!b.empty() && b.back() != '{' && b.back() != '[') b += ',';
    b += '"';
    b.append(k);
    b += "\":";
    return *this;
  }
  Out& kv(std::string_view k, std::string_view v) { return key(k).str(v); }
  Out& kn(std::string_view k, int64_t v) { key(k); b += std::to_string(v); return *this; }
  Out& kb(std::string_view k, bool v) { return key(k).raw(v ? "true" : "false"); }
};

const char kB32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string akid(Rng& r, std::string_view prefix) {
  std::string s(prefix);
  for (int i = 0; i < 16; ++i) s += kB32[r.below(32)];
  return s;
}
std::string hex(uint64_t v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*" PRIx64, digits, v);
  return std::string(buf).substr(0, static_cast<size_t>(digits));
}
std::string uuid(Rng& r) {
  uint64_t a = r.next(), b = r.next();
  return hex(a >> 32, 8) + "-" + hex((a >> 16) & 0xffff, 4) + "-" + hex(a & 0xffff, 4) + "-" + hex(b >> 48, 4) + "-" +
         hex(b & 0xffffffffffffULL, 12);
}
std::string ip(Rng& r) {
  return std::to_string(r.range(1, 223)) + "." + std::to_string(r.below(256)) + "." + std::to_string(r.below(256)) +
         "." + std::to_string(r.range(1, 255));
}
// "2023-10-01T00:00:00Z" + ms milliseconds (UTC), whole seconds as CloudTrail writes them.
std::string iso_time(int64_t ms) {
  time_t t = static_cast<time_t>(1696118400 + ms / 1000);  // 2023-10-01T00:00:00Z
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct Event {
  std::string_view source, name;
  int read_only;  // 1 true, 0 false, -1 either
  double weight;
};

std::vector<Event> events() {
  std::vector<Event> e;
  auto add = [&](std::string_view src, std::initializer_list<std::string_view> names, int ro, double w) {
    for (auto n : names) e.push_back({src, n, ro, w});
  };
  add("s3.amazonaws.com", {"GetObject", "PutObject", "HeadObject", "ListObjects", "GetBucketAcl", "GetBucketPolicy",
                           "GetBucketLocation", "ListBuckets"}, -1, 30);
  add("s3.amazonaws.com", {"PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl", "DeleteBucket"}, 0, 1);
  add("ec2.amazonaws.com", {"DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs", "DescribeSubnets",
                            "DescribeVolumes", "DescribeImages", "DescribeSnapshots", "DescribeRegions"}, 1, 25);
  add("ec2.amazonaws.com", {"RunInstances", "TerminateInstances", "AuthorizeSecurityGroupIngress", "CreateSnapshot",
                            "ModifySnapshotAttribute", "CreateKeyPair"}, 0, 3);
  add("iam.amazonaws.com", {"GetUser", "ListUsers", "ListRoles", "GetRole", "ListAttachedRolePolicies",
                            "ListAccessKeys", "GetAccountAuthorizationDetails"}, 1, 8);
  add("iam.amazonaws.com", {"CreateUser", "CreateAccessKey", "AttachUserPolicy", "PutUserPolicy",
                            "CreateLoginProfile", "UpdateAssumeRolePolicy", "DeleteUser"}, 0, 1);
  add("sts.amazonaws.com", {"AssumeRole", "GetCallerIdentity", "GetSessionToken", "AssumeRoleWithWebIdentity"}, 1, 20);
  add("kms.amazonaws.com", {"Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"}, 1, 20);
  add("kms.amazonaws.com", {"ScheduleKeyDeletion", "DisableKey"}, 0, 0.2);
  add("lambda.amazonaws.com", {"Invoke", "ListFunctions20150331", "GetFunction20150331v2"}, 1, 6);
  add("lambda.amazonaws.com", {"CreateFunction20150331", "UpdateFunctionCode20150331v2"}, 0, 1);
  add("dynamodb.amazonaws.com", {"DescribeTable", "ListTables"}, 1, 5);
  add("logs.amazonaws.com", {"CreateLogStream", "DescribeLogGroups", "DeleteLogGroup"}, -1, 4);
  add("cloudtrail.amazonaws.com", {"DescribeTrails", "GetTrailStatus", "LookupEvents"}, 1, 2);
  add("cloudtrail.amazonaws.com", {"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors"}, 0, 0.02);
  add("guardduty.amazonaws.com", {"ListDetectors", "DeleteDetector"}, -1, 0.5);
  add("secretsmanager.amazonaws.com", {"GetSecretValue", "ListSecrets"}, 1, 3);
  add("signin.amazonaws.com", {"ConsoleLogin"}, 0, 2);
  return e;
}

const std::vector<std::string> kRegions = {"us-east-1",    "us-east-2",      "us-west-1",
                                           "us-west-2",    "eu-west-1",      "eu-central-1",
                                           "ap-southeast-1", "ap-northeast-1", "sa-east-1"};
const std::vector<std::string> kAgents = {
    "aws-cli/2.13.25 Python/3.11.5 Linux/5.15.0-1047-aws exe/x86_64.ubuntu.22 prompt/off command/s3.cp",
    "Boto3/1.28.62 md/Botocore#1.31.62 ua/2.0 os/linux#5.10.192-183.736.amzn2.x86_64 md/arch#x86_64 "
    "lang/python#3.9.16 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.62",
    "aws-sdk-go-v2/1.21.0 os/linux lang/go#1.21.1 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.118.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 "
    "Safari/537.36",
    "console.amazonaws.com",
    "s3.amazonaws.com",
    "lambda.amazonaws.com",
    "APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.21.0 "
    "aws-sdk-go/1.45.24 (go1.20.8; linux; amd64)",
    "aws-internal/3 aws-sdk-java/1.12.571 Linux/5.10.198-164.743.amzn2int.x86_64 "
    "OpenJDK_64-Bit_Server_VM/25.382-b06 java/1.8.0_382 vendor/Oracle_Corporation cfg/retry-mode/standard"};
const std::vector<std::string> kRoles = {"AdminRole", "ReadOnly",      "DeployRole", "LambdaExec",
                                         "EKSNode",   "SSO-Developer", "BreakGlass"};

struct Identity {
  std::string json;  // the userIdentity object
  std::string arn;   // "svc" when none (AWS services)
  std::string ip, agent, account;
};

struct Population {
  std::vector<std::string> accounts;
  std::vector<Identity> ids;
  Weighted weights;
};

Population population(Rng& r) {
  Population p;
  for (int i = 0; i < 12; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%012" PRId64, r.range(100000000000LL, 1000000000000LL));
    p.accounts.push_back(buf);
  }
  Weighted kinds;  // IAMUser, AssumedRole, AWSService, Root
  for (double w : {35.0, 60.0, 4.0, 1.0}) kinds.add(w);
  for (int i = 0; i < 3000; ++i) {
    Identity id;
    const std::string& acct = r.pick(p.accounts);
    id.account = acct;
    id.ip = ip(r);
    Out o;
    o.raw("{");
    switch (kinds.pick(r)) {
      case 0: {
        char name[16];
        std::snprintf(name, sizeof name, "user-%04d", i);
        id.arn = "arn:aws:iam::" + acct + ":user/" + name;
        o.kv("type", "IAMUser").kv("principalId", akid(r, "AIDA")).kv("arn", id.arn).kv("accountId", acct);
        o.kv("accessKeyId", akid(r, "AKIA")).kv("userName", name);
        break;
      }
      case 1: {
        std::string role = r.pick(kRoles) + "-" + std::to_string(i % 50);
        std::string pid = akid(r, "AROA");
        std::string session;
        switch (r.below(4)) {
          case 0: session = "i-0" + hex(r.next() >> 4, 15); break;
          case 1: session = "botocore-session-" + std::to_string(r.next() >> 32); break;
          case 2: session = "alice@example.com"; break;
          default: session = "terraform"; break;
        }
        id.arn = "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session;
        o.kv("type", "AssumedRole").kv("principalId", pid + ":" + session).kv("arn", id.arn).kv("accountId", acct);
        o.kv("accessKeyId", akid(r, "ASIA"));
        o.key("sessionContext").raw("{").key("sessionIssuer").raw("{");
        o.kv("type", "Role").kv("principalId", pid).kv("arn", "arn:aws:iam::" + acct + ":role/" + role);
        o.kv("accountId", acct).kv("userName", role).raw("}");
        o.key("webIdFederationData").raw("{}");
        char created[32];
        std::snprintf(created, sizeof created, "2023-10-%02dT%02d:%02d:%02dZ", static_cast<int>(r.range(1, 28)),
                      static_cast<int>(r.below(24)), static_cast<int>(r.below(60)), static_cast<int>(r.below(60)));
        o.key("attributes").raw("{").kv("creationDate", created);
        o.kv("mfaAuthenticated", r.below(3) == 2 ? "true" : "false").raw("}}");
        break;
      }
      case 2: {
        static const std::vector<std::string> services = {"lambda.amazonaws.com", "ec2.amazonaws.com",
                                                          "cloudformation.amazonaws.com"};
        const std::string& svc = r.pick(services);
        o.kv("type", "AWSService").kv("invokedBy", svc);
        id.ip = svc;
        id.arn = "svc";
        break;
      }
      default:
        id.arn = "arn:aws:iam::" + acct + ":root";
        o.kv("type", "Root").kv("principalId", acct).kv("arn", id.arn).kv("accountId", acct);
        o.kv("accessKeyId", akid(r, "ASIA"));
        break;
    }
    o.raw("}");
    id.json = std::move(o.b);
    id.agent = r.pick(kAgents);
    p.ids.push_back(std::move(id));
  }
  for (size_t rank = 0; rank < p.ids.size(); ++rank) p.weights.add(1.0 / std::pow(static_cast<double>(rank + 1), 0.9));
  return p;
}

void request_parameters(Out& o, Rng& r, const Population& p, std::string_view src, std::string_view name,
                        const std::string& region) {
  o.key("requestParameters");
  if (src == "s3.amazonaws.com") {
    char key[48];
    std::snprintf(key, sizeof key, "prefix/%d/part-%05d.parquet", static_cast<int>(r.below(100)),
                  static_cast<int>(r.below(99999)));
    o.raw("{").kv("bucketName", "corp-data-" + std::to_string(r.below(40)));
    o.kv("Host", "corp-data.s3." + region + ".amazonaws.com").kv("key", key).raw("}");
  } else if (src == "ec2.amazonaws.com") {
    if (name == "RunInstances") {
      static const std::vector<std::string> types = {"t3.micro", "m5.large", "p3.16xlarge", "c5.24xlarge"};
      o.raw("{\"instancesSet\":{\"items\":[{").kv("imageId", "ami-0" + hex(r.next(), 16));
      o.raw(",\"minCount\":1,\"maxCount\":1}]}").kv("instanceType", r.pick(types));
      o.raw(",\"blockDeviceMapping\":{},\"monitoring\":{\"enabled\":false},\"disableApiTermination\":false}");
    } else {
      o.raw("{\"maxResults\":1000,\"filterSet\":{\"items\":[{\"name\":\"instance-state-name\",\"valueSet\":"
            "{\"items\":[{\"value\":\"running\"}]}}]}}");
    }
  } else if (src == "iam.amazonaws.com") {
    char user[16];
    std::snprintf(user, sizeof user, "user-%04d", static_cast<int>(r.below(3000)));
    o.raw("{").kv("userName", user);
    o.kv("policyArn", r.unit() < 0.1 ? "arn:aws:iam::aws:policy/AdministratorAccess"
                                     : "arn:aws:iam::aws:policy/ReadOnlyAccess").raw("}");
  } else if (src == "sts.amazonaws.com") {
    o.raw("{").kv("roleArn", "arn:aws:iam::" + r.pick(p.accounts) + ":role/DeployRole");
    o.kv("roleSessionName", "session-" + std::to_string(r.below(1 << 24))).kn("durationSeconds", 3600).raw("}");
  } else if (src == "kms.amazonaws.com") {
    o.raw("{").kv("encryptionAlgorithm", "SYMMETRIC_DEFAULT");
    o.kv("keyId", "arn:aws:kms:" + region + ":" + r.pick(p.accounts) + ":key/" + uuid(r));
    o.key("encryptionContext").raw("{");
    o.kv("aws:lambda:FunctionArn", "arn:aws:lambda:" + region + ":" + r.pick(p.accounts) + ":function:fn-" +
                                       std::to_string(r.below(300)));
    o.raw("}}");
  } else if (src == "cloudtrail.amazonaws.com") {
    o.raw("{").kv("name", "arn:aws:cloudtrail:" + region + ":" + r.pick(p.accounts) + ":trail/org-trail").raw("}");
  } else if (src == "signin.amazonaws.com") {
    o.raw("null");
  } else {
    o.raw("{").kv("resourceName", "res-" + std::to_string(r.below(10000))).kn("maxItems", 50).raw("}");
  }
}

void tail(Out& o, Rng& r, std::string_view src, std::string_view name, int read_only, const std::string& region,
          const std::string& acct) {
  o.kv("requestID", uuid(r)).kv("eventID", uuid(r));
  o.kb("readOnly", read_only >= 0 ? read_only == 1 : r.unit() < 0.5);
  o.kv("eventType", name == "ConsoleLogin" ? "AwsConsoleSignIn" : "AwsApiCall");
  o.kb("managementEvent", src != "s3.amazonaws.com").kv("recipientAccountId", acct);
  o.kv("eventCategory", src != "s3.amazonaws.com" ? "Management" : "Data");
  std::string_view service = src.substr(0, src.find('.'));
  o.key("tlsDetails").raw("{").kv("tlsVersion", "TLSv1.3").kv("cipherSuite", "TLS_AES_128_GCM_SHA256");
  o.kv("clientProvidedHostHeader", std::string(service) + "." + region + ".amazonaws.com").raw("}");
}

void s3_data(Out& o, Rng& r, const std::string& acct) {
  o.key("additionalEventData").raw("{").kv("SignatureVersion", "SigV4");
  o.kv("CipherSuite", "ECDHE-RSA-AES128-GCM-SHA256").kn("bytesTransferredIn", 0);
  o.kv("AuthenticationMethod", "AuthHeader");
  o.kv("x-amz-id-2", hex(r.next(), 16) + hex(r.next(), 16) + hex(r.next(), 16) + hex(r.next(), 16));
  o.kn("bytesTransferredOut", static_cast<int64_t>(r.below(10000000))).raw("}");
  o.key("resources").raw("[{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::corp-data/prefix/obj\"},{");
  o.kv("accountId", acct).kv("type", "AWS::S3::Bucket").kv("ARN", "arn:aws:s3:::corp-data").raw("}]");
}

struct Writer {
  FILE* f = nullptr;
  std::string buf;
  uint64_t bytes = 0;
  void line(const std::string& s) {
    buf += s;
    buf += '\n';
    bytes += s.size() + 1;
    if (buf.size() >= (1u << 20)) flush();
  }
  bool flush() {
    bool ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
    buf.clear();
    return ok;
  }
};

int stream(Writer& w, double mb, uint64_t seed) {
  Rng r(seed);
  Population p = population(r);
  const std::vector<Event> evs = events();
  Weighted ew;
  for (const Event& e : evs) ew.add(e.weight);
  const uint64_t target = static_cast<uint64_t>(mb * 1024 * 1024);
  int64_t ms = 0;
  uint64_t n = 0, stop_logging = 0, no_mfa = 0;
  Out o;
  while (w.bytes < target) {
    const Identity& id = p.ids[p.weights.pick(r)];
    const Event& e = evs[ew.pick(r)];
    const std::string& region = r.unit() < 0.3 ? r.pick(kRegions) : kRegions[0];
    ms += r.range(1, 40);
    o.b.clear();
    o.raw("{").kv("eventVersion", "1.09").key("userIdentity").raw(id.json);
    o.kv("eventTime", iso_time(ms)).kv("eventSource", e.source).kv("eventName", e.name).kv("awsRegion", region);
    o.kv("sourceIPAddress", id.ip).kv("userAgent", id.agent);
    double err = r.unit();
    std::string_view service = e.source.substr(0, e.source.find('.'));
    if (err < 0.03) {
      o.kv("errorCode", "AccessDenied");
      o.kv("errorMessage", "User: " + id.arn + " is not authorized to perform: " + std::string(service) + ":" +
                               std::string(e.name) +
                               " on resource: * because no identity-based policy allows the action");
    } else if (err < 0.04) {
      static const std::vector<std::string> codes = {"ThrottlingException", "NoSuchEntityException",
                                                     "Client.UnauthorizedOperation"};
      o.kv("errorCode", r.pick(codes)).kv("errorMessage", "Rate exceeded");
    }
    request_parameters(o, r, p, e.source, e.name, region);
    if (e.name == "ConsoleLogin") {
      bool mfa = r.unit() >= 0.15;
      if (!mfa) ++no_mfa;
      o.key("responseElements").raw("{").kv("ConsoleLogin", r.unit() < 0.1 ? "Failure" : "Success").raw("}");
      o.key("additionalEventData").raw("{");
      o.kv("LoginTo", "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true");
      o.kv("MobileVersion", "No").key("MFAIdentifier");
      if (mfa) o.str("arn:aws:iam::" + id.account + ":mfa/dev");
      else o.raw("null");
      o.kv("MFAUsed", mfa ? "Yes" : "No").raw("}");
    } else if (e.name == "AssumeRole") {
      std::string token = "IQoJb3JpZ2luX2VjE";
      for (int i = 0; i < 160; ++i) token += kB64[r.below(64)];
      o.key("responseElements").raw("{\"credentials\":{").kv("accessKeyId", akid(r, "ASIA"));
      o.kv("sessionToken", token).kv("expiration", "Oct 1, 2023, 1:00:00 AM").raw("}");
      o.key("assumedRoleUser").raw("{").kv("assumedRoleId", akid(r, "AROA") + ":session");
      o.kv("arn", "arn:aws:sts::" + id.account + ":assumed-role/DeployRole/session").raw("}}");
    } else if (e.read_only == 0 || (e.read_only < 0 && r.unit() < 0.3)) {
      o.key("responseElements").raw("{").kv("requestId", uuid(r)).raw(",\"_return\":true}");
    } else {
      o.key("responseElements").raw("null");
    }
    if (e.name == "StopLogging") ++stop_logging;
    if (e.source == "s3.amazonaws.com") s3_data(o, r, id.account);
    tail(o, r, e.source, e.name, e.read_only, region, id.account);
    o.raw("}");
    w.line(o.b);
    ++n;
  }
  if (!w.flush()) return 1;
  std::fprintf(stderr,
               "ctgen: events=%" PRIu64 " bytes=%" PRIu64 " avg=%.0f B StopLogging=%" PRIu64
               " ConsoleLoginNoMFA=%" PRIu64 " filter_hits=%" PRIu64 "\n",
               n, w.bytes, n ? static_cast<double>(w.bytes) / static_cast<double>(n) : 0.0, stop_logging, no_mfa,
               stop_logging + no_mfa);
  return 0;
}

// N events, each its own credential and session ARN: an assumed role reading one S3 object.
int credentials(Writer& w, uint64_t n, int64_t spacing_ms, uint64_t seed) {
  Rng r(seed);
  std::vector<std::string> accounts;
  for (int i = 0; i < 12; ++i) accounts.push_back(std::to_string(r.range(100000000000LL, 1000000000000LL)));
  Out o;
  for (uint64_t i = 0; i < n; ++i) {
    const std::string& acct = accounts[i % accounts.size()];
    const std::string role = kRoles[i % kRoles.size()] + "-" + std::to_string(i % 50);
    const std::string session = "worker-" + std::to_string(i);
    const std::string pid = akid(r, "AROA");
    const std::string region = kRegions[i % 3];
    o.b.clear();
    o.raw("{").kv("eventVersion", "1.09").key("userIdentity").raw("{").kv("type", "AssumedRole");
    o.kv("principalId", pid + ":" + session).kv("arn", "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session);
    o.kv("accountId", acct).kv("accessKeyId", akid(r, "ASIA"));
    o.key("sessionContext").raw("{").key("sessionIssuer").raw("{").kv("type", "Role").kv("principalId", pid);
    o.kv("arn", "arn:aws:iam::" + acct + ":role/" + role).kv("accountId", acct).kv("userName", role).raw("}");
    o.key("webIdFederationData").raw("{}").key("attributes").raw("{");
    o.kv("creationDate", iso_time(static_cast<int64_t>(i) * spacing_ms)).kv("mfaAuthenticated", "false").raw("}}}");
    o.kv("eventTime", iso_time(static_cast<int64_t>(i) * spacing_ms)).kv("eventSource", "s3.amazonaws.com");
    o.kv("eventName", "GetObject").kv("awsRegion", region).kv("sourceIPAddress", ip(r)).kv("userAgent", kAgents[1]);
    char key[48];
    std::snprintf(key, sizeof key, "prefix/%d/part-%05d.parquet", static_cast<int>(r.below(100)),
                  static_cast<int>(r.below(99999)));
    o.key("requestParameters").raw("{").kv("bucketName", "corp-data-" + std::to_string(r.below(40)));
    o.kv("Host", "corp-data.s3." + region + ".amazonaws.com").kv("key", key).raw("}");
    o.key("responseElements").raw("null");
    s3_data(o, r, acct);
    tail(o, r, "s3.amazonaws.com", "GetObject", 1, region, acct);
    o.raw("}");
    w.line(o.b);
  }
  if (!w.flush()) return 1;
  std::fprintf(stderr, "ctgen: credentials=%" PRIu64 " events=%" PRIu64 " bytes=%" PRIu64 " spacing_ms=%" PRId64 "\n",
               n, n, w.bytes, spacing_ms);
  return 0;
}

std::string literal_rules(uint64_t n) {
  static const char* const kReal[] = {"Terraform/", "Boto3/", "aws-cli/", "aws-sdk-java/", "Chrome/"};
  std::string o;
  char buf[512];
  for (uint64_t i = 0; i < n; ++i) {
    std::string cond;
    std::string tok = "tool" + std::to_string(i);
    if (i % 100 == 99) cond = std::string("userAgent contains \"") + kReal[(i / 100) % 5] + "\"";
    else switch (i % 4) {
      case 0: cond = "userAgent contains~ \"scanner-" + tok + "/\""; break;
      case 1: cond = "userAgent startswith \"" + tok + " \""; break;
      case 2: cond = "userAgent like \"*exploit-kit-" + tok + "*\""; break;
      default: cond = "userAgent endswith \"(" + tok + ")\" or userAgent contains \"" + tok + ";\""; break;
    }
    std::snprintf(buf, sizeof buf,
                  "rule bench.literal.r%llu {\n  title \"Offensive tool user agent %llu\"\n  severity medium\n"
                  "  attack T1190\n  source aws.cloudtrail\n  when %s\n  message \"{userAgent}\"\n"
                  "  suppress 1h by userAgent\n}\n\n",
                  static_cast<unsigned long long>(i), static_cast<unsigned long long>(i), cond.c_str());
    o += buf;
  }
  return o;
}

int usage() {
  std::fputs("usage: braid_bench_ctgen [--mb N] [--seed S] [-o FILE]\n"
             "       braid_bench_ctgen --credentials N [--spacing-ms MS] [--seed S] [-o FILE]\n"
             "       braid_bench_ctgen --dump-rules N\n"
             "       braid_bench_ctgen --dump-literal-rules N\n",
             stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  double mb = 200;
  uint64_t seed = 42, creds = 0, dump = 0, dump_literal = 0;
  int64_t spacing = 900;
  std::string out = "-";
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--mb" && (v = value())) mb = std::atof(v);
    else if (a == "--seed" && (v = value())) seed = std::strtoull(v, nullptr, 10);
    else if (a == "--credentials" && (v = value())) creds = std::strtoull(v, nullptr, 10);
    else if (a == "--spacing-ms" && (v = value())) spacing = std::strtoll(v, nullptr, 10);
    else if (a == "--dump-rules" && (v = value())) dump = std::strtoull(v, nullptr, 10);
    else if (a == "--dump-literal-rules" && (v = value())) dump_literal = std::strtoull(v, nullptr, 10);
    else if (a == "-o" && (v = value())) out = v;
    else return usage();
  }
  if (dump_literal) {
    const std::string text = literal_rules(dump_literal);
    return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
  }
  if (dump) {
    const braid::bench::RuleSet rs = braid::bench::generate_rules(dump);
    return std::fwrite(rs.text.data(), 1, rs.text.size(), stdout) == rs.text.size() ? 0 : 1;
  }
  Writer w;
  w.f = out == "-" ? stdout : std::fopen(out.c_str(), "wb");
  if (!w.f) {
    std::fprintf(stderr, "ctgen: cannot write %s: %s\n", out.c_str(), std::strerror(errno));
    return 2;
  }
  int rc = creds ? credentials(w, creds, spacing, seed) : stream(w, mb, seed);
  if (w.f != stdout && std::fclose(w.f) != 0) rc = 1;
  return rc;
}
