// SPDX-License-Identifier: Apache-2.0
#include "addon/durable_write.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

namespace fulcrum {
namespace {

class DurableWrite final : public Napi::AsyncWorker {
 public:
  DurableWrite(Napi::Env env, std::string path, Napi::Array parts)
      : Napi::AsyncWorker(env, "fulcrum.writeFileDurable"),
        deferred_(Napi::Promise::Deferred::New(env)),
        path_(std::move(path)),
        parts_(Napi::Persistent(parts)) {
    iov_.reserve(parts.Length());
    for (uint32_t i = 0; i < parts.Length(); i++) {
      Napi::Value v = parts.Get(i);
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
        throw Napi::TypeError::New(env, "writeFileDurable: part " + std::to_string(i) + " is not a Uint8Array");
      auto a = v.As<Napi::Uint8Array>();
      if (a.ByteLength() > 0) iov_.push_back({a.Data(), a.ByteLength()});
    }
  }

  Napi::Promise promise() const { return deferred_.Promise(); }

 private:
  // Thread pool: no JavaScript value is touched here, only the bytes.
  void Execute() override {
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return fail("open");
    bool ok = write_all(fd) && sync(fd);
    int saved = errno;
    if (close(fd) != 0 && ok) return fail("close");
    errno = saved;
    if (!ok) fail(step_);
  }

  // writev takes at most IOV_MAX pieces and may write fewer bytes than asked.
  bool write_all(int fd) {
    step_ = "write";
    size_t i = 0;
    while (i < iov_.size()) {
      int n = int(std::min<size_t>(iov_.size() - i, IOV_MAX));
      ssize_t done = writev(fd, &iov_[i], n);
      if (done < 0 && errno == EINTR) continue;
      if (done <= 0) {
        if (done == 0) errno = EIO;  // no progress: would loop forever
        return false;
      }
      for (size_t left = size_t(done); left > 0;) {
        if (left >= iov_[i].iov_len) {
          left -= iov_[i++].iov_len;
        } else {
          iov_[i].iov_base = static_cast<char*>(iov_[i].iov_base) + left;
          iov_[i].iov_len -= left;
          left = 0;
        }
      }
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
    SetError(std::string(step) + " " + path_ + ": " + std::error_code(errno, std::generic_category()).message());
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

  Napi::Promise::Deferred deferred_;
  std::string path_;
  Napi::Reference<Napi::Array> parts_;  // keeps the bytes iov_ points at alive
  std::vector<iovec> iov_;
  const char* step_ = "write";
};

}  // namespace

Napi::Value write_file_durable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsArray())
    throw Napi::TypeError::New(env, "writeFileDurable(path: string, parts: Uint8Array[])");
  auto* job = new DurableWrite(env, info[0].As<Napi::String>(), info[1].As<Napi::Array>());
  Napi::Promise p = job->promise();
  job->Queue();  // the job deletes itself when it has settled
  return p;
}

}  // namespace fulcrum
