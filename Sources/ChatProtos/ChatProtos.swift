// ChatProtos: the chat.v1 and social.v1 API as Swift types, service protocols and clients.
// Everything lives in Generated/ (scripts/gen, from Proto/); this file only keeps the target
// non-empty while scripts/gen rebuilds the generator.
