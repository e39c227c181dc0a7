// A plugin built for a plugin interface that this ppool does not have.
extern "C" int ppool_plugin_api_version() { return 999; }
extern "C" void ppool_plugin_register(void*) {}
