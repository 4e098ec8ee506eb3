int cprotocplugin_placeholder(void) { return 0; }
