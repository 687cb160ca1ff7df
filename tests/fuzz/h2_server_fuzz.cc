// An HTTP/2 server session (http/h2_session.h) fed a client's bytes: the preface, then frames
// from the fuzzer, in reads of sizes the input chooses. The handler answers every request with
// a body, consumes what it receives, and resets every third stream, as the proxy would.
#include <string>
#include <vector>

#include "fuzz.h"
#include "http/h2_session.h"

namespace h2 = gantry::http::h2;

namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct Handler : h2::SessionHandler {
  h2::Session* session = nullptr;
  std::vector<int32_t> opened;
  void OnHeaders(int32_t stream, std::span<const h2::Field> fields, bool) override {
    for (const h2::Field& field : fields) FUZZ_CHECK(!field.name.empty());
    opened.push_back(stream);
  }
  void OnData(int32_t stream, std::string_view data) override {
    session->Consume(stream, data.size());
  }
  void OnEndStream(int32_t) override {}
  void OnStreamClose(int32_t, uint32_t) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t read = static_cast<size_t>(data[0]) * 4 + 1;  // bytes per Receive
  std::string_view frames = AsText(data + 1, size - 1);
  Handler handler;
  h2::Limits limits;
  auto session = h2::Session::Server(handler, limits);
  handler.session = session.get();
  std::string out;
  std::string input = std::string(kPreface) + std::string(frames);
  for (size_t offset = 0; offset < input.size() && session->Alive(); offset += read) {
    if (!session->Receive(std::string_view(input).substr(offset, read)).ok()) break;
    for (int32_t stream : handler.opened) {
      const h2::Field response[] = {{":status", "200"}, {"content-type", "text/plain"}};
      if (stream % 3 == 0) {
        session->Reset(stream, h2::kCancel);
      } else if (session->SubmitResponse(stream, response, false)) {
        session->SendData(stream, "hello");
        session->SendEnd(stream);
      }
    }
    handler.opened.clear();
    out.clear();
    session->TakeOutput(out);
  }
  session->TakeOutput(out);
  return 0;
}
