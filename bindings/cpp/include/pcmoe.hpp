// The C++17 binding of pcmoe: header-only RAII wrappers over pcmoe.h.
// Link with `pkg-config --cflags --libs pcmoe`.
#ifndef PCMOE_CPP_PCMOE_HPP
#define PCMOE_CPP_PCMOE_HPP

#include "pcmoe/bytes.hpp"
#include "pcmoe/error.hpp"
#include "pcmoe/events.hpp"
#include "pcmoe/hub.hpp"
#include "pcmoe/library.hpp"
#include "pcmoe/message.hpp"
#include "pcmoe/network.hpp"
#include "pcmoe/params.hpp"
#include "pcmoe/party.hpp"

#endif
