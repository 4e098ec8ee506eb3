// The declaration in include/ is all this module provides; SwiftPM wants a source file.
#include "CFuzzerDriver.h"
