// What one libnghttp2 server session costs in resident memory, without chatd around it:
// N sessions created on one thread with chatd's options, each fed a client's preface,
// SETTINGS and one unary request and made to answer it; prints RSS growth per session and
// the heap bytes nghttp2 holds for one of them afterwards (through its nghttp2_mem hook,
// glibc's usable sizes).
//
//   cc -O2 -o /tmp/session_rss Benchmarks/NGHTTP2SessionMemory/session_rss.c -lnghttp2 -lpthread
//   /tmp/session_rss [SESSIONS]          # docs/benchmarks.md, "memory per connection"
#include <malloc.h>
#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sessions = 2000;
static long held;  // heap bytes the first session holds
static int counting = 1;
static uint8_t request[4096];
static size_t request_length;

static void *count(void *p) {
  if (counting && p) held += (long)malloc_usable_size(p);
  return p;
}
static void uncount(void *p) {
  if (counting && p) held -= (long)malloc_usable_size(p);
}
static void *hook_malloc(size_t n, void *u) { return count(malloc(n)); }
static void hook_free(void *p, void *u) { uncount(p); free(p); }
static void *hook_calloc(size_t a, size_t b, void *u) { return count(calloc(a, b)); }
static void *hook_realloc(void *p, size_t n, void *u) { uncount(p); return count(realloc(p, n)); }
static nghttp2_mem hooks = {NULL, hook_malloc, hook_free, hook_calloc, hook_realloc};

static long rss_kib(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) { if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0; fclose(f); }
  return resident * 4;
}

#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE}

static ssize_t answer_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                           uint32_t *flags, nghttp2_data_source *source, void *u) {
  static const uint8_t message[] = {0, 0, 0, 0, 2, 8, 1};
  nghttp2_nv trailers[] = {NV("grpc-status", "0")};
  memcpy(buf, message, sizeof message);
  *flags = NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
  nghttp2_submit_trailer(s, id, trailers, 1);
  return sizeof message;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *u) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  nghttp2_nv headers[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                          NV("grpc-accept-encoding", "identity,gzip")};
  nghttp2_data_provider body = {.read_callback = answer_body};
  nghttp2_submit_response(s, frame->hd.stream_id, headers, 3, &body);
  return 0;
}

// A client's first bytes: preface, SETTINGS, a unary request with a 5-byte message.
static void make_request(nghttp2_session_callbacks *callbacks) {
  nghttp2_session *client;
  nghttp2_session_client_new(&client, callbacks, NULL);
  nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, NULL, 0);
  nghttp2_nv headers[] = {
      NV(":method", "POST"), NV(":scheme", "http"), NV(":path", "/bench.v1.Chat/Send"),
      NV(":authority", "127.0.0.1:50051"), NV("content-type", "application/grpc"),
      NV("te", "trailers"), NV("user-agent", "chatd-swift"), NV("grpc-timeout", "20S")};
  nghttp2_submit_request(client, NULL, headers, 8, NULL, NULL);
  const uint8_t *bytes;
  ssize_t n;
  while ((n = nghttp2_session_mem_send(client, &bytes)) > 0) {
    memcpy(request + request_length, bytes, (size_t)n);
    request_length += (size_t)n;
  }
  nghttp2_session_del(client);
}

static void *run(void *unused) {
  nghttp2_session_callbacks *callbacks;
  nghttp2_session_callbacks_new(&callbacks);
  make_request(callbacks);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
  nghttp2_option *option;
  nghttp2_option_new(&option);
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_no_closed_streams(option, 1);
  long before = rss_kib();
  for (int i = 0; i < sessions; i++) {
    nghttp2_session *server;  // never freed: every session stays, as open connections do
    nghttp2_session_server_new3(&server, callbacks, NULL, option, &hooks);
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
                                         {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
    nghttp2_submit_settings(server, NGHTTP2_FLAG_NONE, settings, 2);
    nghttp2_session_mem_recv(server, request, request_length);
    const uint8_t *bytes;
    while (nghttp2_session_mem_send(server, &bytes) > 0) {}
    counting = 0;
  }
  long after = rss_kib();
  printf("sessions=%d heap_per_session=%ld B rss_per_session=%.2f KiB\n", sessions, held,
         (double)(after - before) / sessions);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1) sessions = atoi(argv[1]);
  pthread_t thread;  // off the main thread: in a malloc arena of its own, as an event loop
  pthread_create(&thread, NULL, run, NULL);
  pthread_join(thread, NULL);
  return 0;
}
