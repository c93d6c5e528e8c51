// SPDX-License-Identifier: Apache-2.0
#include "addon/durable_write.hpp"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "addon/iov_cursor.hpp"

namespace fulcrum {
namespace {

class DurableWrite final : public Napi::AsyncWorker {
 public:
  // The job holds the caller's array of the parts, frozen so that it
  // cannot change meanwhile: each Uint8Array must live until the job is
  // done. (Copying 20,000 parts into an array of its own cost 2-3 ms of
  // the event loop per save.)
  DurableWrite(Napi::Env env, std::string path, Napi::Array parts, bool append)
      : Napi::AsyncWorker(env, "fulcrum.writeFileDurable"),
        deferred_(Napi::Promise::Deferred::New(env)),
        path_(std::move(path)),
        append_(append) {
    if (path_.find('\0') != std::string::npos)
      throw Napi::TypeError::New(env, "writeFileDurable: the path holds a NUL byte");
    iov_.reserve(parts.Length());
    for (uint32_t i = 0; i < parts.Length(); i++) {
      Napi::Value v = parts.Get(i);
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
        throw Napi::TypeError::New(env, "writeFileDurable: part " + std::to_string(i) + " is not a Uint8Array");
      auto a = v.As<Napi::Uint8Array>();
      iov_.add(a.Data(), a.ByteLength());
    }
    parts.Freeze();
    parts_ = Napi::Persistent(parts);
  }

  Napi::Promise promise() const { return deferred_.Promise(); }

 private:
  // Thread pool: no JavaScript value is touched here, only the bytes.
  void Execute() override {
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append_ ? O_APPEND : O_TRUNC), 0600);
    if (fd < 0) return fail("open");
    bool ok = write_all(fd) && sync(fd);
    int saved = errno;
    if (close(fd) != 0 && ok) return fail("close");
    errno = saved;
    if (!ok) fail(step_);
  }

  bool write_all(int fd) {
    step_ = "write";
    while (!iov_.done()) {
      ssize_t done = writev(fd, iov_.pieces(), iov_.count(IOV_MAX));
      if (done < 0 && errno == EINTR) continue;
      if (done <= 0) {
        if (done == 0) errno = EIO;  // no progress: would loop forever
        return false;
      }
      iov_.advance(size_t(done));
    }
    return true;
  }

  bool sync(int fd) {
    step_ = "fsync";
    while (fsync(fd) != 0)
      if (errno != EINTR) return false;
    return true;
  }

  void fail(const char* step) {
    int e = errno;  // before anything below may change it
    SetError(std::string(step) + " " + path_ + ": " + std::error_code(e, std::generic_category()).message());
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

  Napi::Promise::Deferred deferred_;
  std::string path_;
  bool append_;  // at the end of what the file holds, rather than in place of it
  Napi::Reference<Napi::Array> parts_;  // frozen; keeps the bytes iov_ points at alive
  IovCursor iov_;
  const char* step_ = "write";
};

}  // namespace

Napi::Value write_file_durable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool flag_ok = info[2].IsUndefined() || info[2].IsBoolean();
  if (!info[0].IsString() || !info[1].IsArray() || !flag_ok)
    throw Napi::TypeError::New(env, "writeFileDurable(path: string, parts: Uint8Array[], append?: boolean)");
  bool append = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  auto* job = new DurableWrite(env, info[0].As<Napi::String>(), info[1].As<Napi::Array>(), append);
  Napi::Promise p = job->promise();
  job->Queue();  // the job deletes itself when it has settled
  return p;
}

}  // namespace fulcrum
