// Moving handles: the handle travels, the moved-from object is empty, and
// each handle is released once.
#include "check.hpp"
#include "fixtures.hpp"

#include <string>
#include <type_traits>
#include <utility>

static_assert(!std::is_copy_constructible_v<pcmoe::Party>, "Party is move-only");
static_assert(!std::is_copy_assignable_v<pcmoe::Hub>, "Hub is move-only");
static_assert(!std::is_copy_constructible_v<pcmoe::Network>, "Network is move-only");
static_assert(!std::is_copy_constructible_v<pcmoe::Message>, "Message is move-only");
static_assert(std::is_nothrow_move_constructible_v<pcmoe::Party>, "Party moves without throwing");
static_assert(std::is_nothrow_move_assignable_v<pcmoe::Message>, "Message moves without throwing");

static void test_party_moves() {
    pcmoe::Party first = fixtures::tiny_party(0, 3);
    pcmoe_party *handle = first.native_handle();
    CHECK(handle != nullptr);

    pcmoe::Party second(std::move(first));
    CHECK(second.native_handle() == handle);
    CHECK(first.native_handle() == nullptr);
    CHECK(!first);
    CHECK(second.metrics().train_bytes == 2700);
    CHECK_ERROR(first.metrics(), PCMOE_ERROR_INVALID_ARGUMENT, "party is NULL");
    CHECK_ERROR(first.train_turn(1), PCMOE_ERROR_INVALID_ARGUMENT, "party is NULL");
    CHECK_ERROR(first.set_progress_handler([](const pcmoe::Progress &) {}), PCMOE_ERROR_INVALID_ARGUMENT,
                "party is NULL");
    CHECK_ERROR(first.set_transport([](std::uint32_t, pcmoe::ByteView) { return true; }),
                PCMOE_ERROR_INVALID_ARGUMENT, "party is NULL");
    CHECK_ERROR(first.handle_message(pcmoe::ByteView()), PCMOE_ERROR_INVALID_ARGUMENT, "party is NULL");
    CHECK_ERROR(first.generate(std::string("the "), 4), PCMOE_ERROR_INVALID_ARGUMENT, "party is NULL");
    CHECK_ERROR(first.allow_export({1}), PCMOE_ERROR_INVALID_ARGUMENT, "party is NULL");
    CHECK_ERROR(first.export_model(fixtures::temp_path("moved.safetensors")), PCMOE_ERROR_INVALID_ARGUMENT,
                "party is NULL");

    // Assigning over a live party destroys the old one first.
    pcmoe::Party third = fixtures::tiny_party(1, 3);
    third = std::move(second);
    CHECK(third.native_handle() == handle);
    CHECK(third.metrics().party_id == 0);
    first = std::move(third);
    CHECK(first.native_handle() == handle);
    CHECK(!third);
}

static void test_hub_moves() {
    pcmoe::Hub hub(fixtures::parties);
    pcmoe_hub *handle = hub.native_handle();
    pcmoe::Hub moved(std::move(hub));
    CHECK(moved.native_handle() == handle);
    CHECK(hub.native_handle() == nullptr);
    pcmoe::Party party = fixtures::tiny_party(0, 3);
    CHECK_NOTHROW(moved.attach(party));
    CHECK_ERROR(hub.attach(party), PCMOE_ERROR_INVALID_ARGUMENT, "hub is NULL");
    hub = pcmoe::Hub(2);
    CHECK(hub.native_handle() != nullptr);
}

// A party rejects random bytes, and without a known sender the reply has no destination.
static void test_messages() {
    pcmoe::Party party = fixtures::tiny_party(0, 3);
    const std::uint8_t garbage[] = {1, 2, 3, 4, 5, 6, 7, 8};
    pcmoe::HandledMessage handled = party.handle_message(pcmoe::ByteView(garbage, sizeof garbage));
    CHECK(!handled.accepted());
    CHECK(handled.status == PCMOE_ERROR_BAD_MESSAGE);
    CHECK(!handled.error.empty());
    CHECK(handled.reply.destination() == -1);

    pcmoe::Message empty;
    CHECK(empty.empty());
    CHECK(empty.bytes().size() == 0);
    pcmoe::Message moved(std::move(handled.reply));
    CHECK(handled.reply.empty());
    CHECK(handled.reply.destination() == -1);
    empty = std::move(moved);
    CHECK(moved.empty());
}

void test_handles() {
    check::section("handles");
    test_party_moves();
    test_hub_moves();
    test_messages();
}
