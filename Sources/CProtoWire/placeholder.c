// Placeholder until scripts/gen writes protoc-c output here.
int cprotowire_placeholder(void) { return 0; }
