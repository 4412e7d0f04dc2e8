using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json;
using ContactGrains.Bot;
using ContactGrains.Contracts;
using ContactGrains.Grains.Agents;
using ContactGrains.Grains.Conversations;
using ContactGrains.Grains.Customers;
using ContactGrains.Grains.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Core.Internal;
using Orleans.Storage;
using Orleans.TestingHost;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// The rule every grain that stores state follows (StoredState.CommitAsync), grain by grain and
/// method by method: when a change cannot be stored, the caller hears the failure, and the next call
/// sees exactly what storage holds. Each test makes one grain's storage fail at one write, then
/// compares what the live activation answers with what storage holds (read past the fault) and with
/// what a fresh activation answers. Each test has its own single-silo cluster on a fake clock.
/// </summary>
public sealed class StorageFaultTests : IAsyncLifetime
{
    private const string QueueKey = "billing:en";
    private const string TransferQueueKey = "payments:en";
    private const string Refund = "Where is my refund?";
    private const string AskForHuman = "I want to speak to a human";
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(30);
    private static readonly RoutingOptions Routing = new();

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
    private InProcessTestCluster _cluster = null!;
    private FaultyGrainStorage _storage = null!;

    private IGrainFactory Grains => _cluster.Client;

    public async Task InitializeAsync() => (_cluster, _storage) = await FaultyStorageCluster.StartAsync(_clock);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    // ---- Threads --------------------------------------------------------------------------------

    [Fact]
    public async Task A_thread_whose_start_write_fails_names_nothing_and_its_retry_resumes_the_same_conversation()
    {
        var thread = NewThread();
        var customer = NewCustomer();
        _storage.FailWrite("thread", thread.GetGrainId()); // the conversation starts, the thread's only write fails

        await AssertWriteFailsAsync("thread", () => thread.GetOrStart(customer, knownClosedId: null));
        _storage.Heal();

        var stored = await ThreadMatchesStorageAsync(thread);
        Assert.Equal((null, false, 0), (stored.CurrentConversationId, stored.CurrentStarted, stored.ConversationCount));
        var first = ConversationIds.ForThread(thread.GetPrimaryKeyString(), 0);
        Assert.Equal(ConversationStatus.Open, (await Conversation(first).GetSnapshot()).Status);

        // The thread's first conversation has a fixed id: the retry starts (idempotently) that one, and only then names it.
        Assert.Equal(new ThreadConversation(first, Created: true), await thread.GetOrStart(customer, knownClosedId: null));
        stored = await ThreadMatchesStorageAsync(thread);
        Assert.Equal((first, true, 1), (stored.CurrentConversationId, stored.CurrentStarted, stored.ConversationCount));
        Assert.Equal([first], (await CustomerOf(customer).GetProfile()).Contacts.Select(c => c.ConversationId));
    }

    [Fact]
    public async Task A_thread_whose_first_write_fails_knows_no_customer_until_a_message_names_them_again()
    {
        var thread = NewThread();
        var customer = NewCustomer();
        _storage.FailWrite("thread", thread.GetGrainId());

        await AssertWriteFailsAsync("thread", () => thread.GetOrStart(customer, knownClosedId: null));
        _storage.Heal();

        // Nothing was stored: a message that does not say who the customer is cannot start anything.
        Assert.Null(await thread.GetOrStart(customer: null, knownClosedId: null));
        var stored = await ThreadMatchesStorageAsync(thread);
        Assert.Equal((null, false, 0, null), (stored.CurrentConversationId, stored.CurrentStarted, stored.ConversationCount, stored.Customer));
        Assert.Null(await thread.GetOrStart(customer: null, knownClosedId: null));

        // One that does resumes the conversation the failed attempt started: the customer has one contact, not two.
        var resumed = await thread.GetOrStart(customer, knownClosedId: null);
        Assert.Equal(ConversationIds.ForThread(thread.GetPrimaryKeyString(), 0), resumed?.ConversationId);
        Assert.Equal([resumed!.ConversationId], (await CustomerOf(customer).GetProfile()).Contacts.Select(c => c.ConversationId));
    }

    [Fact]
    public async Task A_thread_whose_next_conversation_cannot_be_stored_still_names_its_closed_one()
    {
        var customer = NewCustomer();
        var (thread, closed) = await StartConversationAsync(customer);
        await closed.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "The customer left.");
        _storage.FailWrite("thread", thread.GetGrainId());

        await AssertWriteFailsAsync("thread", () => thread.GetOrStart(customer: null, knownClosedId: closed.GetPrimaryKeyString()));
        _storage.Heal();

        var stored = await ThreadMatchesStorageAsync(thread);
        Assert.Equal((closed.GetPrimaryKeyString(), true, 1), (stored.CurrentConversationId, stored.CurrentStarted, stored.ConversationCount));

        var next = await thread.GetOrStart(customer: null, knownClosedId: closed.GetPrimaryKeyString());
        Assert.NotNull(next);
        Assert.True(next.Created);
        Assert.Equal(ConversationIds.ForThread(thread.GetPrimaryKeyString(), 1), next.ConversationId);
        Assert.NotEqual(closed.GetPrimaryKeyString(), next.ConversationId);
        stored = await ThreadMatchesStorageAsync(thread);
        Assert.Equal((next.ConversationId, true, 2), (stored.CurrentConversationId, stored.CurrentStarted, stored.ConversationCount));
        Assert.Equal(2, (await CustomerOf(customer).GetProfile()).Contacts.Length);
    }

    [Fact]
    public async Task A_thread_that_cannot_even_reload_after_its_start_write_failed_answers_from_storage()
    {
        var thread = NewThread();
        var customer = NewCustomer();
        Assert.Null(await thread.Find()); // active: its first read is done
        _storage.FailWrite("thread", thread.GetGrainId());
        _storage.FailReadsOf("thread", thread.GetGrainId());

        await AssertWriteFailsAsync("thread", () => thread.GetOrStart(customer, knownClosedId: null));
        _storage.Heal();

        var stored = await ThreadMatchesStorageAsync(thread);
        Assert.Equal((null, false), (stored.CurrentConversationId, stored.CurrentStarted));
        Assert.Equal(new ThreadConversation(ConversationIds.ForThread(thread.GetPrimaryKeyString(), 0), Created: true),
            await thread.GetOrStart(customer, knownClosedId: null));
    }

    [Fact]
    public async Task A_thread_row_naming_a_chosen_conversation_not_yet_started_starts_that_one()
    {
        // Earlier versions stored the chosen id (a random one) before starting the conversation.
        var thread = NewThread();
        var customer = NewCustomer();
        var chosen = Guid.CreateVersion7().ToString("N");
        await _storage.WriteStateAsync("thread", thread.GetGrainId(), new GrainState<ConversationThreadState>(
            new ConversationThreadState { CurrentConversationId = chosen, CurrentStarted = false, Customer = customer }));

        Assert.Null(await thread.Find());
        Assert.Equal(new ThreadConversation(chosen, Created: true), await thread.GetOrStart(customer: null, knownClosedId: null));
        var stored = await ThreadMatchesStorageAsync(thread);
        Assert.Equal((chosen, true, 1), (stored.CurrentConversationId, stored.CurrentStarted, stored.ConversationCount));
        Assert.Equal(ConversationStatus.Open, (await Conversation(chosen).GetSnapshot()).Status);
    }

    // ---- Customers ------------------------------------------------------------------------------

    [Fact]
    public async Task A_customer_whose_new_contact_cannot_be_stored_keeps_its_stored_profile_and_the_conversation_does_not_start()
    {
        var customer = NewCustomer();
        var (_, first) = await StartConversationAsync(customer);
        var secondThread = NewThread();
        var renamed = customer with { DisplayName = "Ann Jones", Language = "fr", Tier = CustomerTier.Vip };
        _storage.FailWritesOf("customer", CustomerOf(customer).GetGrainId());

        await AssertWriteFailsAsync("customer", () => secondThread.GetOrStart(renamed, knownClosedId: null));
        _storage.Heal();

        var stored = await CustomerMatchesStorageAsync(CustomerOf(customer));
        Assert.Equal(("Test Customer", "en", CustomerTier.Standard), (stored.DisplayName, stored.Language, stored.Tier));
        Assert.Equal([first.GetPrimaryKeyString()], stored.Contacts.Select(c => c.ConversationId));

        // The thread's first conversation never started, so neither it nor the thread names it.
        var thread = await ThreadMatchesStorageAsync(secondThread);
        Assert.Equal((null, false), (thread.CurrentConversationId, thread.CurrentStarted));
        var second = Conversation(ConversationIds.ForThread(secondThread.GetPrimaryKeyString(), 0));
        Assert.Equal(ConversationStatus.None, (await ConversationMatchesStorageAsync(second)).Status);

        var retried = await secondThread.GetOrStart(renamed, knownClosedId: null);
        Assert.Equal(new ThreadConversation(second.GetPrimaryKeyString(), Created: true), retried);
        stored = await CustomerMatchesStorageAsync(CustomerOf(customer));
        Assert.Equal(("Ann Jones", "fr", CustomerTier.Vip), (stored.DisplayName, stored.Language, stored.Tier));
        Assert.Equal([first.GetPrimaryKeyString(), second.GetPrimaryKeyString()], stored.Contacts.Select(c => c.ConversationId));
    }

    [Fact]
    public async Task A_close_the_customer_could_not_record_leaves_the_contact_open_until_the_retried_close_records_it()
    {
        var customer = NewCustomer();
        var (_, conversation) = await StartConversationAsync(customer);
        _clock.Advance(TimeSpan.FromMinutes(3));
        _storage.FailWritesOf("customer", CustomerOf(customer).GetGrainId());

        await AssertWriteFailsAsync("customer", () => conversation.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "The customer left."));
        _storage.Heal();

        var stored = await CustomerMatchesStorageAsync(CustomerOf(customer));
        var contact = Assert.Single(stored.Contacts);
        Assert.Equal((conversation.GetPrimaryKeyString(), null, null), (contact.ConversationId, contact.ClosedAt, contact.Outcome));
        var closed = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal(ConversationStatus.Closed, closed.Status);

        // A retry reaches the customer again (the conversation is closed already).
        await conversation.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "The customer left.");
        contact = Assert.Single((await CustomerMatchesStorageAsync(CustomerOf(customer))).Contacts);
        Assert.Equal((closed.ClosedAt, OwnershipReasons.ClosedByAdapter), (contact.ClosedAt, contact.Outcome));
    }

    [Fact]
    public async Task A_customer_write_whose_reply_was_lost_is_seen_with_its_new_version_and_the_next_write_succeeds()
    {
        var customer = NewCustomer();
        var (_, first) = await StartConversationAsync(customer);
        var secondThread = NewThread();
        _storage.FailWrite("customer", CustomerOf(customer).GetGrainId(), fault: FaultyGrainStorage.WriteFault.LandedButReplyLost);

        await AssertWriteFailsAsync("customer", () => secondThread.GetOrStart(customer, knownClosedId: null));
        _storage.Heal();

        // The live activation (not a fresh one: that would read the new version anyway) sees the write
        // that landed, and its next write is not refused as a conflict with it.
        var stored = await CustomerMatchesStorageAsync(CustomerOf(customer), andFresh: false);
        Assert.Equal(2, stored.Contacts.Count);
        var second = await secondThread.GetOrStart(customer, knownClosedId: null);
        Assert.NotNull(second);
        await first.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "The customer left.");
        stored = await CustomerMatchesStorageAsync(CustomerOf(customer));
        Assert.Equal(
            [(first.GetPrimaryKeyString(), OwnershipReasons.ClosedByAdapter), (second.ConversationId, null)],
            stored.Contacts.Select(c => (c.ConversationId, c.Outcome)));
    }

    // ---- Segments -------------------------------------------------------------------------------

    [Fact]
    public async Task A_segment_that_cannot_be_sealed_stays_empty_and_the_resent_message_seals_it()
    {
        var (_, conversation) = await StartConversationAsync(NewCustomer());
        var segment = Grains.GetGrain<IConversationSegmentGrain>(GrainKeys.Segment(conversation.GetPrimaryKeyString(), 0));
        _storage.FailWritesOf("segment", segment.GetGrainId());

        // Messages until one brings the conversation to two segments' worth of entries: that one seals the first.
        var (lastStored, sealing) = (1L, (CustomerMessage?)null);
        for (var i = 1; sealing is null; i++)
        {
            Assert.True(i <= 2 * ConversationGrain.SegmentSize, "No message sealed a segment.");
            var message = TestData.Message($"m{i}", Refund);
            var failure = await Record.ExceptionAsync(async () => lastStored = (await conversation.ReceiveCustomerMessage(message, deliverTo: null)).LastSequence);
            if (failure is not null)
            {
                Assert.Contains("Injected failure writing segment of", failure.ToString());
                sealing = message;
            }
        }

        _storage.Heal();

        Assert.Empty(await SegmentMatchesStorageAsync(segment));
        var stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal((0L, lastStored), (stored.SealedThrough, stored.LastSequence));

        var resent = await conversation.ReceiveCustomerMessage(sealing, deliverTo: null);
        Assert.Equal((InboundOutcome.Accepted, lastStored + 1), (resent.Outcome, resent.Sequence));
        Assert.Equal(Enumerable.Range(1, ConversationGrain.SegmentSize).Select(i => (long)i), (await SegmentMatchesStorageAsync(segment)).Select(e => e.Sequence));
        Assert.Equal(ConversationGrain.SegmentSize, (await ConversationMatchesStorageAsync(conversation)).SealedThrough);
        var timeline = await conversation.GetTimeline(TestData.Channel, 0, ConversationLimits.MaxPageSize);
        Assert.Equal(Enumerable.Range(1, (int)resent.LastSequence).Select(i => (long)i), timeline.Entries.Select(e => e.Sequence));
    }

    // ---- Conversations --------------------------------------------------------------------------

    [Fact]
    public async Task A_conversation_whose_start_cannot_be_stored_is_not_started()
    {
        var conversation = Conversation(TestData.UniqueId("conv"));
        var customer = NewCustomer();
        var command = new StartConversation(TestData.Channel, TestData.UniqueId("thread"), customer);
        _storage.FailWritesOf("conversation", conversation.GetGrainId());

        await AssertWriteFailsAsync("conversation", () => conversation.Start(command));
        _storage.Heal();

        var stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal((ConversationStatus.None, 0L, 0), (stored.Status, stored.LastSequence, stored.Ledger.Count));
        Assert.Equal(RejectionCode.NotFound, (await conversation.GetTimeline(TestData.Channel, 0, 10)).Rejection?.Code);

        var started = await conversation.Start(command);
        Assert.Equal((ConversationStatus.Open, Owner.Bot, 1L), (started.Status, started.Owner, started.LastSequence));
        Assert.Equal([OwnershipReasons.NewConversation], started.Ledger.Select(c => c.ReasonCode));
        Assert.Equal([conversation.GetPrimaryKeyString()], (await CustomerOf(customer).GetProfile()).Contacts.Select(c => c.ConversationId));
    }

    [Fact]
    public async Task A_start_whose_inactivity_check_cannot_be_registered_fails_and_the_retried_start_registers_it()
    {
        var thread = NewThread();
        var customer = NewCustomer();
        var reminders = FaultyStorageCluster.Reminders(_cluster);
        // Whichever conversation the thread chooses inside the call.
        reminders.FailRegistrationsOf(ConversationGrain.InactivityReminder);

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => thread.GetOrStart(customer, knownClosedId: null));
        Assert.Contains($"Injected failure registering {ConversationGrain.InactivityReminder}", failure.ToString());
        reminders.Heal();

        // The conversation was stored (its write ran beside the registration), the thread did not name it.
        Assert.False((await ThreadMatchesStorageAsync(thread)).CurrentStarted);
        var chosen = Conversation(ConversationIds.ForThread(thread.GetPrimaryKeyString(), 0));
        Assert.Equal(ConversationStatus.Open, (await chosen.GetSnapshot()).Status);
        Assert.Null(await reminders.ReadRow(chosen.GetGrainId(), ConversationGrain.InactivityReminder));

        // The retry finds it started and registers the check the first attempt could not.
        Assert.Equal(new ThreadConversation(chosen.GetPrimaryKeyString(), Created: true), await thread.GetOrStart(customer, knownClosedId: null));
        Assert.NotNull(await reminders.ReadRow(chosen.GetGrainId(), ConversationGrain.InactivityReminder));
        Assert.True((await ThreadMatchesStorageAsync(thread)).CurrentStarted);
    }

    [Fact]
    public async Task A_customer_message_that_cannot_be_stored_is_taken_as_new_when_resent()
    {
        var conversation = await TalkToBotAsync();
        _storage.FailWritesOf("conversation", conversation.GetGrainId());

        await AssertWriteFailsAsync("conversation", () => conversation.ReceiveCustomerMessage(TestData.Message("m2", "How do I reset my password?"), deliverTo: null));
        _storage.Heal();

        var stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal(3L, stored.LastSequence);
        Assert.Equal(["m1"], stored.RecentEntries.Select(e => e.Message?.AdapterMessageId).OfType<string>());

        var resent = await conversation.ReceiveCustomerMessage(TestData.Message("m2", "How do I reset my password?"), deliverTo: null);
        Assert.Equal((InboundOutcome.Accepted, 4L, 5L), (resent.Outcome, resent.Sequence, resent.LastSequence));
        Assert.Equal(5L, (await ConversationMatchesStorageAsync(conversation)).LastSequence);
    }

    [Fact]
    public async Task A_handoff_the_conversation_cannot_store_leaves_the_bot_owning_it()
    {
        var conversation = await TalkToBotAsync();
        _storage.FailWritesOf("conversation", conversation.GetGrainId());

        await AssertWriteFailsAsync("conversation", () => conversation.ReceiveCustomerMessage(TestData.Message("m2", AskForHuman), deliverTo: null));
        _storage.Heal();

        var stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal((Owner.Bot, 3L), (stored.Owner, stored.LastSequence));
        Assert.Equal([OwnershipReasons.NewConversation], stored.Ledger.Select(c => c.ReasonCode));

        // The queue stored its side before the conversation failed; the resent message names it.
        Assert.Equal([conversation.GetPrimaryKeyString()], (await QueueMatchesStorageAsync(Queue(QueueKey))).Waiting.Select(w => w.ConversationId));
        var resent = await conversation.ReceiveCustomerMessage(TestData.Message("m2", AskForHuman), deliverTo: null);
        Assert.Equal(InboundOutcome.Accepted, resent.Outcome);
        Assert.Equal(StatusKind.Queued, resent.Entries[^1].Status?.Kind);
        stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal(new Owner(OwnerKind.Queue, QueueKey), stored.Owner);
        Assert.Single((await QueueMatchesStorageAsync(Queue(QueueKey))).Waiting);
    }

    [Theory]
    [InlineData("resume")]
    [InlineData("resent message")]
    public async Task A_new_delivery_target_that_cannot_be_stored_leaves_pushes_going_to_the_stored_one(string how)
    {
        var (_, conversation) = await StartConversationAsync(NewCustomer());
        var (storedObserver, storedTarget) = NewConversationObserver();
        var (other, otherTarget) = NewConversationObserver();
        await conversation.ReceiveCustomerMessage(TestData.Message("m1", Refund), storedTarget);
        _storage.FailWritesOf("conversation", conversation.GetGrainId());

        await AssertWriteFailsAsync("conversation", () => how == "resume"
            ? conversation.Resume(TestData.Channel, 3, otherTarget)
            : conversation.ReceiveCustomerMessage(TestData.Message("m1", Refund), otherTarget));
        _storage.Heal();

        Assert.Equal(storedTarget.GetGrainId(), ((IAddressable)(await ReadStoredAsync<ConversationState>("conversation", conversation)).DeliveryTarget!).GetGrainId());

        // The close is pushed to one target only: the one storage names.
        await conversation.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "The customer left.");
        var pushed = await storedObserver.WaitForAsync(e => e.Status?.Kind == StatusKind.Closed);
        Assert.Equal(4L, pushed.Sequence);
        Assert.Empty(other.Entries);
        await ConversationMatchesStorageAsync(conversation);
    }

    [Fact]
    public async Task A_close_that_cannot_be_stored_leaves_the_conversation_open_with_the_bot()
    {
        var customer = NewCustomer();
        var (_, conversation) = await StartConversationAsync(customer);
        await conversation.ReceiveCustomerMessage(TestData.Message("m1", Refund), deliverTo: null);
        _storage.FailWritesOf("conversation", conversation.GetGrainId());

        await AssertWriteFailsAsync("conversation", () => conversation.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "The customer left."));
        _storage.Heal();

        var stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal((ConversationStatus.Open, Owner.Bot, 3L, null), (stored.Status, stored.Owner, stored.LastSequence, stored.ClosedAt));
        Assert.Null(Assert.Single((await CustomerOf(customer).GetProfile()).Contacts).ClosedAt);

        var closed = await conversation.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "The customer left.");
        Assert.Equal((ConversationStatus.Closed, 4L), (closed.Status, closed.LastSequence));
        Assert.Equal(OwnershipReasons.ClosedByAdapter, Assert.Single((await CustomerOf(customer).GetProfile()).Contacts).Outcome);
    }

    [Fact]
    public async Task An_assignment_the_conversation_cannot_store_leaves_it_with_its_queue_and_a_retried_accept_completes_it()
    {
        var (agent, desk) = await ConnectAsync("ann");
        var conversation = await AskForHumanAsync();
        var offer = await WaitForStoredOfferAsync(desk, conversation);
        _storage.FailWritesOf("conversation", conversation.GetGrainId());

        await AssertWriteFailsAsync("conversation", () => agent.Accept(offer.OfferId));
        _storage.Heal();

        var stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal((new Owner(OwnerKind.Queue, QueueKey), 6L), (stored.Owner, stored.LastSequence));
        Assert.Equal([OwnershipReasons.NewConversation, OwnershipReasons.CustomerAskedForHuman], stored.Ledger.Select(c => c.ReasonCode));

        var assignment = await agent.Accept(offer.OfferId);
        Assert.Equal(new Owner(OwnerKind.Agent, "ann"), assignment.Context.Owner);
        stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal((new Owner(OwnerKind.Agent, "ann"), 7L), (stored.Owner, stored.LastSequence));
    }

    [Fact]
    public async Task An_agent_message_the_conversation_cannot_store_is_posted_once_when_resent()
    {
        var (agent, _, conversation) = await AssignAsync("ann");
        _storage.FailWritesOf("conversation", conversation.GetGrainId());

        await AssertWriteFailsAsync("conversation", () => agent.SendMessage(conversation.GetPrimaryKeyString(), "a1", "I am looking at your refund."));
        _storage.Heal();

        Assert.Equal(7L, (await ConversationMatchesStorageAsync(conversation)).LastSequence);

        var posted = await agent.SendMessage(conversation.GetPrimaryKeyString(), "a1", "I am looking at your refund.");
        Assert.Equal((8L, SenderKind.Agent, "ann"), (posted.Sequence, posted.Message!.Sender, posted.Message.SenderId));
        var stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal([8L], stored.RecentEntries.Where(e => e.Message?.Sender == SenderKind.Agent).Select(e => e.Sequence));
    }

    [Fact]
    public async Task A_hand_back_the_conversation_cannot_store_leaves_the_agent_owning_it()
    {
        var (agent, _, conversation) = await AssignAsync("ann");
        _storage.FailWritesOf("conversation", conversation.GetGrainId());

        await AssertWriteFailsAsync("conversation", () => agent.HandBack(conversation.GetPrimaryKeyString(), "Only a tracking question."));
        _storage.Heal();

        var stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal((new Owner(OwnerKind.Agent, "ann"), 7L), (stored.Owner, stored.LastSequence));
        Assert.Equal([conversation.GetPrimaryKeyString()], (await AgentMatchesStorageAsync(agent)).Assignments.Keys);

        await agent.HandBack(conversation.GetPrimaryKeyString(), "Only a tracking question.");
        Assert.Equal(Owner.Bot, (await ConversationMatchesStorageAsync(conversation)).Owner);
        Assert.Empty((await AgentMatchesStorageAsync(agent)).Assignments);
    }

    [Fact]
    public async Task A_transfer_the_conversation_cannot_store_leaves_the_agent_owning_it()
    {
        var (agent, _, conversation) = await AssignAsync("ann");
        var target = new TransferTarget("payments", "en", AgentId: null);
        _storage.FailWritesOf("conversation", conversation.GetGrainId());

        await AssertWriteFailsAsync("conversation", () => agent.Transfer(conversation.GetPrimaryKeyString(), target, "A card question."));
        _storage.Heal();

        var stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal((new Owner(OwnerKind.Agent, "ann"), 7L), (stored.Owner, stored.LastSequence));
        Assert.Equal([conversation.GetPrimaryKeyString()], (await AgentMatchesStorageAsync(agent)).Assignments.Keys);

        await agent.Transfer(conversation.GetPrimaryKeyString(), target, "A card question.");
        stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal(new Owner(OwnerKind.Queue, TransferQueueKey), stored.Owner);
        Assert.Equal(OwnershipReasons.Transferred, stored.Ledger[^1].ReasonCode);
        Assert.Empty((await AgentMatchesStorageAsync(agent)).Assignments);
        Assert.Equal([conversation.GetPrimaryKeyString()], (await QueueMatchesStorageAsync(Queue(TransferQueueKey))).Waiting.Select(w => w.ConversationId));
    }

    [Fact]
    public async Task A_return_to_the_queue_the_conversation_cannot_store_leaves_the_agent_owning_it()
    {
        var (_, _, conversation) = await AssignAsync("ann");
        _storage.FailWritesOf("conversation", conversation.GetGrainId());

        await AssertWriteFailsAsync("conversation", () => conversation.ReturnToQueue("ann", OwnershipReasons.AgentSignedOut, "The agent signed out."));
        _storage.Heal();

        var stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal((new Owner(OwnerKind.Agent, "ann"), 7L), (stored.Owner, stored.LastSequence));

        await conversation.ReturnToQueue("ann", OwnershipReasons.AgentSignedOut, "The agent signed out.");
        stored = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal((new Owner(OwnerKind.Queue, QueueKey), OwnershipReasons.AgentSignedOut), (stored.Owner, stored.Ledger[^1].ReasonCode));
    }

    // ---- Queues ---------------------------------------------------------------------------------

    [Fact]
    public async Task A_handoff_the_queue_cannot_store_leaves_the_queue_empty_and_the_bot_owning_the_conversation()
    {
        var conversation = await TalkToBotAsync();
        _storage.FailWritesOf("queue", Queue(QueueKey).GetGrainId());

        await AssertWriteFailsAsync("queue", () => conversation.ReceiveCustomerMessage(TestData.Message("m2", AskForHuman), deliverTo: null));
        _storage.Heal();

        Assert.Empty((await QueueMatchesStorageAsync(Queue(QueueKey))).Waiting);
        Assert.Equal(Owner.Bot, (await ConversationMatchesStorageAsync(conversation)).Owner);

        var resent = await conversation.ReceiveCustomerMessage(TestData.Message("m2", AskForHuman), deliverTo: null);
        Assert.Equal(1, resent.Entries[^1].Status?.QueuePosition);
        Assert.Equal([conversation.GetPrimaryKeyString()], (await QueueMatchesStorageAsync(Queue(QueueKey))).Waiting.Select(w => w.ConversationId));
    }

    [Fact]
    public async Task A_removal_the_queue_cannot_store_keeps_the_conversation_waiting_in_it()
    {
        var conversation = await AskForHumanAsync();
        _storage.FailWritesOf("queue", Queue(QueueKey).GetGrainId());

        await AssertWriteFailsAsync("queue", () => conversation.Close(TestData.Channel, OwnershipReasons.ClosedByAdapter, "The customer left."));
        _storage.Heal();

        Assert.Equal([conversation.GetPrimaryKeyString()], (await QueueMatchesStorageAsync(Queue(QueueKey))).Waiting.Select(w => w.ConversationId));
        Assert.Equal(ConversationStatus.Closed, (await ConversationMatchesStorageAsync(conversation)).Status);
    }

    [Fact]
    public async Task A_claim_the_queue_cannot_store_leaves_the_offer_current_and_a_retried_accept_takes_the_conversation()
    {
        var (agent, desk) = await ConnectAsync("ann");
        var conversation = await AskForHumanAsync();
        var offer = await WaitForStoredOfferAsync(desk, conversation);
        _storage.FailWritesOf("queue", Queue(QueueKey).GetGrainId());

        await AssertWriteFailsAsync("queue", () => agent.Accept(offer.OfferId));
        _storage.Heal();

        var waiting = Assert.Single((await QueueMatchesStorageAsync(Queue(QueueKey), andFresh: false)).Waiting);
        Assert.Equal((offer.OfferId, "ann"), (waiting.Offer?.OfferId, waiting.Offer?.AgentId));
        Assert.Equal(new Owner(OwnerKind.Queue, QueueKey), (await ConversationMatchesStorageAsync(conversation)).Owner);

        var assignment = await agent.Accept(offer.OfferId);
        Assert.Equal(new Owner(OwnerKind.Agent, "ann"), assignment.Context.Owner);
        var stored = await QueueMatchesStorageAsync(Queue(QueueKey));
        Assert.Empty(stored.Waiting);
        Assert.Equal([new ClaimedOffer(offer.OfferId, "ann", conversation.GetPrimaryKeyString())], stored.RecentClaims);
    }

    [Fact]
    public async Task A_decline_the_queue_cannot_store_leaves_the_offer_with_the_agent_who_declined()
    {
        var (agent, desk) = await ConnectAsync("ann");
        var conversation = await AskForHumanAsync();
        var offer = await WaitForStoredOfferAsync(desk, conversation);
        _storage.FailWritesOf("queue", Queue(QueueKey).GetGrainId());

        // One-way from the agent: nobody hears this failure; wait for it instead.
        await agent.Decline(offer.OfferId);
        await WaitForUnheardFailureAsync(() => NextTurnOfAsync(Queue(QueueKey)));
        _storage.Heal();

        var waiting = Assert.Single((await QueueMatchesStorageAsync(Queue(QueueKey), andFresh: false)).Waiting);
        Assert.Equal((offer.OfferId, "ann"), (waiting.Offer?.OfferId, waiting.Offer?.AgentId));
        Assert.Empty(waiting.PassedBy);

        // The live activation acts on the stored offer: it is still the current one.
        Assert.True(await Queue(QueueKey).Claim(offer.OfferId, "ann"));
    }

    [Fact]
    public async Task An_offer_expiry_the_queue_cannot_store_is_stored_by_a_later_tick()
    {
        var (_, desk) = await ConnectAsync("ann");
        var conversation = await AskForHumanAsync();
        var offer = await WaitForStoredOfferAsync(desk, conversation);
        _storage.FailWritesOf("queue", Queue(QueueKey).GetGrainId());

        _clock.Advance(Routing.OfferTimeout + TimeSpan.FromSeconds(1));
        await WaitForUnheardFailureAsync(() => NextTurnOfAsync(Queue(QueueKey)));
        _storage.Heal();

        Assert.Single((await QueueMatchesStorageAsync(Queue(QueueKey), andFresh: false)).Waiting);
        Assert.Equal((offer.OfferId, ""), await StoredOfferAndPassedByAsync());

        // The activation still holds the stored (expired) offer, so its next tick expires and stores it.
        _clock.Advance(TimeSpan.FromSeconds(1));
        await EventuallyAsync(StoredOfferAndPassedByAsync, stored => stored.Offer is null);
        Assert.Equal((null, "ann"), await StoredOfferAndPassedByAsync());

        async Task<(string? Offer, string PassedBy)> StoredOfferAndPassedByAsync()
        {
            var waiting = Assert.Single((await ReadStoredQueueAsync(Queue(QueueKey))).Waiting);
            return (waiting.Offer?.OfferId, string.Join(",", waiting.PassedBy.Keys));
        }
    }

    [Fact]
    public async Task An_offer_the_queue_cannot_store_cannot_be_accepted_and_the_agent_is_offered_the_conversation_again()
    {
        // Room for one conversation: while the agent holds the offer, the queue cannot make another.
        var (agent, desk) = await ConnectAsync("ann", capacity: 1);
        var conversation = await TalkToBotAsync();
        _storage.FailWrite("queue", Queue(QueueKey).GetGrainId(), nth: 2); // the enqueue is stored, the offer is not

        await conversation.ReceiveCustomerMessage(TestData.Message("m2", AskForHuman), deliverTo: null);
        var lost = await desk.WaitForOfferAsync(conversation);
        await WaitForUnheardFailureAsync(() => NextTurnOfAsync(Queue(QueueKey)));
        _storage.Heal();

        Assert.Null(Assert.Single((await QueueMatchesStorageAsync(Queue(QueueKey), andFresh: false)).Waiting).Offer);

        // The agent was shown the offer, but the queue acts on what it stored: that offer is not out.
        var refused = await Assert.ThrowsAsync<RequestRejectedException>(() => agent.Accept(lost.OfferId));
        Assert.Equal(RejectionCode.FailedPrecondition, refused.Code);
        Assert.Equal(new Owner(OwnerKind.Queue, QueueKey), (await conversation.GetSnapshot()).Owner);

        // Free again, the agent is offered the conversation anew, and that offer is stored.
        var again = (await desk.WaitForAsync(e => e.Offer?.Context.ConversationId == conversation.GetPrimaryKeyString() && e.Offer.OfferId != lost.OfferId)).Offer!;
        await agent.Accept(again.OfferId);
        Assert.Equal(new Owner(OwnerKind.Agent, "ann"), (await ConversationMatchesStorageAsync(conversation)).Owner);
    }

    // ---- Queues: calls that interleave with a write ----------------------------------------------

    [Fact]
    public async Task Enqueues_that_arrive_while_a_partition_is_being_written_are_stored_together_by_its_next_write()
    {
        var (queue, partition, ids, held, first, others) = await EnqueueBehindAHeldWriteAsync(6);

        // None is answered before its change is stored.
        Assert.False(first.IsCompleted || others.Any(o => o.IsCompleted));
        held.Release();

        var placements = await Task.WhenAll([first, .. others]);
        Assert.Equal(Enumerable.Range(1, ids.Length), placements.Select(p => p.Position).Order());
        Assert.Equal(2, _storage.WritesOf(WaitingPartitions.StateName(partition), queue.GetGrainId()));
        Assert.Equal(ids.Order(), (await QueueMatchesStorageAsync(queue)).Waiting.Select(w => w.ConversationId).Order());
    }

    [Fact]
    public async Task A_failed_partition_write_fails_every_enqueue_it_discarded_and_keeps_none_unstored()
    {
        var (queue, _, ids, held, first, others) = await EnqueueBehindAHeldWriteAsync(4);

        // The database goes away: the held write fails, and so does the one that would store the others.
        _storage.FailWritesOf("queue", queue.GetGrainId());
        held.Release(fail: true);
        foreach (var enqueue in (Task[])[first, .. others])
        {
            await Assert.ThrowsAnyAsync<Exception>(() => enqueue);
        }

        _storage.Heal();
        Assert.Empty((await QueueMatchesStorageAsync(queue)).Waiting);

        // Every customer's handoff is retried, and each is stored once.
        await Task.WhenAll(ids.Select(id => queue.Enqueue(Waiting(id))));
        Assert.Equal(ids.Order(), (await QueueMatchesStorageAsync(queue)).Waiting.Select(w => w.ConversationId).Order());
    }

    [Fact]
    public async Task A_failed_partition_write_whose_changes_the_next_write_stores_fails_no_caller()
    {
        var (queue, _, ids, held, first, others) = await EnqueueBehindAHeldWriteAsync(4);
        held.Release(fail: true);

        // The write queued behind the failed one stores every change made before it began, the
        // first one's too: every caller's change is stored, so every caller hears success (a claim
        // told "failed" although stored would leave its conversation with nobody).
        await Task.WhenAll([first, .. others]);
        Assert.Equal(1, _storage.InjectedWriteFailures);
        Assert.Equal(ids.Order(), (await QueueMatchesStorageAsync(queue)).Waiting.Select(w => w.ConversationId).Order());
    }

    [Fact]
    public async Task An_enqueue_whose_change_a_reload_discarded_is_told_to_retry_not_that_it_was_stored()
    {
        var queue = Queue(QueueKey);
        var (partition, ids) = ConversationIdsOfOnePartition(3);
        var stateName = WaitingPartitions.StateName(partition);
        var firstWrite = _storage.HoldNextWrite(stateName, queue.GetGrainId());
        var first = queue.Enqueue(Waiting(ids[0]));
        await firstWrite.Reached.WaitAsync(SafetyTimeout);
        var second = queue.Enqueue(Waiting(ids[1]));
        await Eventually.ReadAsync(() => queue.GetStats(), stats => stats.Waiting == 2);

        // The first write fails; the second (carrying both changes) is held in flight, and the
        // first caller's reload waits behind it.
        var secondWrite = _storage.HoldNextWrite(stateName, queue.GetGrainId());
        firstWrite.Release(fail: true);
        await secondWrite.Reached.WaitAsync(SafetyTimeout);

        // A third enqueue changes the list now; its write is queued behind that reload.
        var third = queue.Enqueue(Waiting(ids[2]));
        await Eventually.ReadAsync(() => queue.GetStats(), stats => stats.Waiting == 3);

        // The second write fails too: the reload reads storage (nothing), discarding the third change,
        // and the third write then stores that empty list. Its caller must not hear "stored".
        secondWrite.Release(fail: true);
        Assert.Contains("held, then failed", (await Assert.ThrowsAnyAsync<Exception>(() => first)).ToString());
        Assert.Contains("held, then failed", (await Assert.ThrowsAnyAsync<Exception>(() => second)).ToString());
        await Assert.ThrowsAsync<InconsistentStateException>(() => third);
        Assert.Empty((await QueueMatchesStorageAsync(queue)).Waiting);

        await Task.WhenAll(ids.Select(id => queue.Enqueue(Waiting(id))));
        Assert.Equal(ids.Order(), (await QueueMatchesStorageAsync(queue)).Waiting.Select(w => w.ConversationId).Order());
    }

    // ---- Agents ---------------------------------------------------------------------------------

    [Fact]
    public async Task A_first_sign_in_that_cannot_be_stored_leaves_the_agent_unknown()
    {
        var desk = new RecordingDesk();
        desk.Reference = _cluster.Client.CreateObjectReference<IAgentObserver>(desk);
        var agent = Grains.GetGrain<IAgentGrain>("ann");
        _storage.FailWritesOf("agent", agent.GetGrainId());

        await AssertWriteFailsAsync("agent", () => agent.Connect(Profile("ann"), desk.Reference));
        _storage.Heal();

        var stored = await AgentMatchesStorageAsync(agent);
        Assert.Equal((null, AgentPresence.Offline, null), (stored.Profile, stored.Presence, stored.Observer));
        var unknown = await Assert.ThrowsAsync<RequestRejectedException>(() => agent.Connect(profile: null, desk.Reference));
        Assert.Equal(RejectionCode.FailedPrecondition, unknown.Code);

        var sync = await agent.Connect(Profile("ann"), desk.Reference);
        Assert.Equal((AgentPresence.Available, true), (sync.Status.Presence, sync.Status.Connected));
        Assert.Equal("ann", (await AgentMatchesStorageAsync(agent)).Profile?.DisplayName);
    }

    [Fact]
    public async Task An_away_that_cannot_be_stored_leaves_the_agent_available()
    {
        var (agent, _) = await ConnectAsync("ann");
        _storage.FailWritesOf("agent", agent.GetGrainId());

        await AssertWriteFailsAsync("agent", () => agent.SetPresence(AgentPresence.Away));
        _storage.Heal();

        Assert.Equal(AgentPresence.Available, (await AgentMatchesStorageAsync(agent)).Presence);
        Assert.Equal(AgentPresence.Away, (await agent.SetPresence(AgentPresence.Away)).Presence);
        Assert.Equal(AgentPresence.Away, (await AgentMatchesStorageAsync(agent)).Presence);
    }

    [Fact]
    public async Task An_agent_that_cannot_even_reload_after_a_failed_away_is_reactivated_from_storage()
    {
        var (agent, desk) = await ConnectAsync("ann");
        _storage.FailWritesOf("agent", agent.GetGrainId());
        _storage.FailReadsOf("agent", agent.GetGrainId());

        await AssertWriteFailsAsync("agent", () => agent.SetPresence(AgentPresence.Away));
        _storage.Heal();

        var sync = await agent.Resync(desk.Reference);
        Assert.Equal((AgentPresence.Available, true), (sync.Status.Presence, sync.Status.Connected));
        Assert.Equal(AgentPresence.Available, (await AgentMatchesStorageAsync(agent)).Presence);
    }

    [Fact]
    public async Task A_return_to_available_that_cannot_be_stored_leaves_the_agent_away_and_its_idle_time_unchanged()
    {
        var (agent, _) = await ConnectAsync("ann");
        var signedInAt = _clock.GetUtcNow();
        await agent.SetPresence(AgentPresence.Away);
        _clock.Advance(TimeSpan.FromSeconds(1));
        _storage.FailWritesOf("agent", agent.GetGrainId());

        await AssertWriteFailsAsync("agent", () => agent.SetPresence(AgentPresence.Available));
        _storage.Heal();

        var stored = await AgentMatchesStorageAsync(agent);
        Assert.Equal((AgentPresence.Away, signedInAt), (stored.Presence, stored.IdleSince));
        var available = await agent.SetPresence(AgentPresence.Available);
        Assert.Equal((AgentPresence.Available, _clock.GetUtcNow()), (available.Presence, available.IdleSince));
    }

    [Fact]
    public async Task A_sign_out_that_cannot_be_stored_leaves_the_agent_available_with_its_conversation()
    {
        var (agent, _, conversation) = await AssignAsync("ann");
        _storage.FailWrite("agent", agent.GetGrainId());

        await AssertWriteFailsAsync("agent", () => agent.SetPresence(AgentPresence.Offline));
        _storage.Heal();

        var stored = await AgentMatchesStorageAsync(agent);
        Assert.Equal((AgentPresence.Available, 1), (stored.Presence, stored.Assignments.Count));
        Assert.Equal(new Owner(OwnerKind.Agent, "ann"), (await ConversationMatchesStorageAsync(conversation)).Owner);

        Assert.Equal(AgentPresence.Offline, (await agent.SetPresence(AgentPresence.Offline)).Presence);
        Assert.Empty((await AgentMatchesStorageAsync(agent)).Assignments);
        Assert.Equal(new Owner(OwnerKind.Queue, QueueKey), (await ConversationMatchesStorageAsync(conversation)).Owner);
    }

    [Fact]
    public async Task A_sign_out_whose_returned_conversation_cannot_be_stored_keeps_the_stored_assignment_until_the_watch_drops_it()
    {
        var (agent, _, conversation) = await AssignAsync("ann");
        _storage.FailWrite("agent", agent.GetGrainId(), nth: 2); // "offline" is stored; "returned" is not

        await AssertWriteFailsAsync("agent", () => agent.SetPresence(AgentPresence.Offline));
        _storage.Heal();

        var stored = await AgentMatchesStorageAsync(agent, andFresh: false);
        Assert.Equal(AgentPresence.Offline, stored.Presence);
        Assert.Equal([conversation.GetPrimaryKeyString()], stored.Assignments.Keys);
        var returned = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal((new Owner(OwnerKind.Queue, QueueKey), OwnershipReasons.AgentSignedOut), (returned.Owner, returned.Ledger[^1].ReasonCode));

        // The watch retries returning what storage says the agent still holds, and stores that it is gone.
        _clock.Advance(TimeSpan.FromSeconds(3));
        await EventuallyAsync(() => agent.GetStatus(), s => s.Assignments == 0);
        Assert.Empty((await AgentMatchesStorageAsync(agent)).Assignments);
        Assert.Equal(new Owner(OwnerKind.Queue, QueueKey), (await ConversationMatchesStorageAsync(conversation)).Owner);
    }

    [Fact]
    public async Task A_sign_out_whose_returned_conversation_cannot_be_stored_is_not_undone_by_a_reconnect()
    {
        var (agent, desk, conversation) = await AssignAsync("ann");
        _storage.FailWrite("agent", agent.GetGrainId(), nth: 2);

        await AssertWriteFailsAsync("agent", () => agent.SetPresence(AgentPresence.Offline));
        _storage.Heal();

        Assert.Equal([conversation.GetPrimaryKeyString()], (await AgentMatchesStorageAsync(agent, andFresh: false)).Assignments.Keys);

        // Back before the watch dropped the stale record: the conversation was returned (that was
        // stored, and its queue holds it), so the reconnect must not take it back.
        var sync = await agent.Connect(profile: null, desk.Reference);
        Assert.Empty(sync.Assignments);
        Assert.Equal(new Owner(OwnerKind.Queue, QueueKey), (await ConversationMatchesStorageAsync(conversation)).Owner);
    }

    [Fact]
    public async Task An_accept_the_agent_cannot_store_holds_no_assignment_and_a_retry_takes_the_conversation()
    {
        var (agent, desk) = await ConnectAsync("ann");
        var signedInAt = _clock.GetUtcNow();
        var conversation = await AskForHumanAsync();
        var offer = await WaitForStoredOfferAsync(desk, conversation);
        _clock.Advance(TimeSpan.FromSeconds(1));
        _storage.FailWritesOf("agent", agent.GetGrainId());

        await AssertWriteFailsAsync("agent", () => agent.Accept(offer.OfferId));
        _storage.Heal();

        var stored = await AgentMatchesStorageAsync(agent, andFresh: false);
        Assert.Equal((0, signedInAt), (stored.Assignments.Count, stored.IdleSince));
        Assert.Equal(1, (await agent.GetStatus()).PendingOffers);
        Assert.Equal(new Owner(OwnerKind.Queue, QueueKey), (await ConversationMatchesStorageAsync(conversation)).Owner);

        var assignment = await agent.Accept(offer.OfferId);
        Assert.Equal(new Owner(OwnerKind.Agent, "ann"), assignment.Context.Owner);
        Assert.Equal([conversation.GetPrimaryKeyString()], (await AgentMatchesStorageAsync(agent)).Assignments.Keys);
    }

    [Fact]
    public async Task A_missed_offer_that_cannot_be_counted_does_not_count_toward_away()
    {
        var (agent, desk) = await ConnectAsync("ann");
        var (_, conversation) = await StartConversationAsync(NewCustomer());
        var first = Offer(conversation);
        Assert.True(await agent.Offer(first));
        _storage.FailWritesOf("agent", agent.GetGrainId());

        await agent.WithdrawOffer(first.OfferId, WithdrawReason.TimedOut); // one-way: nobody hears the failure
        await WaitForUnheardFailureAsync(() => agent.Resync(desk.Reference));
        _storage.Heal();

        Assert.Equal((AgentPresence.Available, 0), await StoredPresenceAndMissesAsync(agent));

        // Only the stored count goes on: one more miss is the first in a row, not the second.
        var second = Offer(conversation);
        Assert.True(await agent.Offer(second));
        await agent.WithdrawOffer(second.OfferId, WithdrawReason.TimedOut);
        await EventuallyAsync(() => StoredPresenceAndMissesAsync(agent), stored => stored != (AgentPresence.Available, 0));
        Assert.Equal((AgentPresence.Available, 1), await StoredPresenceAndMissesAsync(agent));
        Assert.Equal(AgentPresence.Available, (await AgentMatchesStorageAsync(agent)).Presence);
    }

    [Fact]
    public async Task A_set_away_for_missed_offers_that_cannot_be_stored_leaves_the_agent_available()
    {
        var (agent, desk) = await ConnectAsync("ann");
        var (_, conversation) = await StartConversationAsync(NewCustomer());
        var first = Offer(conversation);
        Assert.True(await agent.Offer(first));
        await agent.WithdrawOffer(first.OfferId, WithdrawReason.TimedOut);
        await EventuallyAsync(() => StoredPresenceAndMissesAsync(agent), stored => stored == (AgentPresence.Available, 1));
        var second = Offer(conversation);
        Assert.True(await agent.Offer(second));
        _storage.FailWritesOf("agent", agent.GetGrainId());

        await agent.WithdrawOffer(second.OfferId, WithdrawReason.TimedOut);
        await WaitForUnheardFailureAsync(() => agent.Resync(desk.Reference));
        _storage.Heal();

        var stored = await AgentMatchesStorageAsync(agent);
        Assert.Equal((AgentPresence.Available, 1), (stored.Presence, stored.MissedOffers));
    }

    [Fact]
    public async Task A_decline_the_agent_cannot_store_keeps_the_offer_and_the_missed_count()
    {
        var (agent, desk) = await ConnectAsync("ann");
        var (_, started) = await StartConversationAsync(NewCustomer());
        var missed = Offer(started);
        Assert.True(await agent.Offer(missed));
        await agent.WithdrawOffer(missed.OfferId, WithdrawReason.TimedOut);
        await EventuallyAsync(() => StoredPresenceAndMissesAsync(agent), stored => stored == (AgentPresence.Available, 1));
        var conversation = await AskForHumanAsync();
        var offer = await WaitForStoredOfferAsync(desk, conversation);
        _storage.FailWritesOf("agent", agent.GetGrainId());

        await AssertWriteFailsAsync("agent", () => agent.Decline(offer.OfferId));
        _storage.Heal();

        Assert.Equal(1, (await AgentMatchesStorageAsync(agent, andFresh: false)).MissedOffers);
        Assert.Equal(1, (await agent.GetStatus()).PendingOffers);
        Assert.Equal(offer.OfferId, Assert.Single((await ReadStoredQueueAsync(Queue(QueueKey))).Waiting).Offer?.OfferId);

        await agent.Decline(offer.OfferId);
        Assert.Equal(0, (await AgentMatchesStorageAsync(agent, andFresh: false)).MissedOffers);
        Assert.Equal(0, (await agent.GetStatus()).PendingOffers);
    }

    [Fact]
    public async Task A_stream_end_that_cannot_be_stored_leaves_the_agent_connected_until_it_is_told_again()
    {
        var (agent, desk) = await ConnectAsync("ann");
        _storage.FailWritesOf("agent", agent.GetGrainId());

        await AssertWriteFailsAsync("agent", () => agent.Disconnected(desk.Reference));
        _storage.Heal();

        var stored = await AgentMatchesStorageAsync(agent);
        Assert.Null(stored.DisconnectedAt);

        await agent.Disconnected(desk.Reference);
        Assert.False((await agent.GetStatus()).Connected);
        Assert.Equal(_clock.GetUtcNow(), (await AgentMatchesStorageAsync(agent)).DisconnectedAt);
    }

    [Fact]
    public async Task A_conversation_end_the_agent_cannot_store_keeps_its_stored_assignment_until_told_again()
    {
        var (agent, _, conversation) = await AssignAsync("ann");
        _storage.FailWritesOf("agent", agent.GetGrainId());

        // What a closing conversation tells its agent (it retries until the agent hears it).
        await AssertWriteFailsAsync("agent", () => agent.OnConversationEnded(conversation.GetPrimaryKeyString(), ConversationNoticeKind.CustomerLeft, "The customer left."));
        _storage.Heal();

        Assert.Equal([conversation.GetPrimaryKeyString()], (await AgentMatchesStorageAsync(agent)).Assignments.Keys);

        await agent.OnConversationEnded(conversation.GetPrimaryKeyString(), ConversationNoticeKind.CustomerLeft, "The customer left.");
        Assert.Empty((await AgentMatchesStorageAsync(agent)).Assignments);
    }

    [Fact]
    public async Task A_resolution_the_agent_cannot_store_keeps_its_stored_assignment_until_a_reconnect_drops_it()
    {
        var (agent, desk, conversation) = await AssignAsync("ann");
        _storage.FailWritesOf("agent", agent.GetGrainId());

        await AssertWriteFailsAsync("agent", () => agent.Resolve(conversation.GetPrimaryKeyString(), "refund-explained", ""));
        _storage.Heal();

        Assert.Equal([conversation.GetPrimaryKeyString()], (await AgentMatchesStorageAsync(agent)).Assignments.Keys);
        var closed = await ConversationMatchesStorageAsync(conversation);
        Assert.Equal((ConversationStatus.Closed, OwnershipReasons.Resolved), (closed.Status, closed.Ledger[^1].ReasonCode));

        var sync = await agent.Connect(profile: null, desk.Reference);
        Assert.Empty(sync.Assignments);
        Assert.Empty((await AgentMatchesStorageAsync(agent)).Assignments);
    }

    [Fact]
    public async Task A_transfer_the_agent_cannot_store_keeps_its_stored_assignment_until_a_reconnect_drops_it()
    {
        var (agent, desk, conversation) = await AssignAsync("ann");
        _storage.FailWritesOf("agent", agent.GetGrainId());

        await AssertWriteFailsAsync("agent", () => agent.Transfer(conversation.GetPrimaryKeyString(), new TransferTarget("payments", "en", AgentId: null), ""));
        _storage.Heal();

        Assert.Equal([conversation.GetPrimaryKeyString()], (await AgentMatchesStorageAsync(agent)).Assignments.Keys);
        Assert.Equal(new Owner(OwnerKind.Queue, TransferQueueKey), (await ConversationMatchesStorageAsync(conversation)).Owner);

        // The conversation was transferred (that was stored): the reconnect drops the stale record,
        // it does not take the conversation back from the queue it was transferred to.
        var sync = await agent.Connect(profile: null, desk.Reference);
        Assert.Empty(sync.Assignments);
        Assert.Empty((await AgentMatchesStorageAsync(agent)).Assignments);
        Assert.Equal(new Owner(OwnerKind.Queue, TransferQueueKey), (await ConversationMatchesStorageAsync(conversation)).Owner);
    }

    [Fact]
    public async Task A_hand_back_the_agent_cannot_store_keeps_its_stored_assignment_until_a_reconnect_drops_it()
    {
        var (agent, desk, conversation) = await AssignAsync("ann");
        _storage.FailWritesOf("agent", agent.GetGrainId());

        await AssertWriteFailsAsync("agent", () => agent.HandBack(conversation.GetPrimaryKeyString(), ""));
        _storage.Heal();

        Assert.Equal([conversation.GetPrimaryKeyString()], (await AgentMatchesStorageAsync(agent)).Assignments.Keys);
        Assert.Equal(Owner.Bot, (await ConversationMatchesStorageAsync(conversation)).Owner);

        var sync = await agent.Connect(profile: null, desk.Reference);
        Assert.Empty(sync.Assignments);
        Assert.Empty((await AgentMatchesStorageAsync(agent)).Assignments);
    }

    // ---- What each grain answers, against what storage holds --------------------------------------

    /// <summary>The live thread answers what storage holds, and so does a fresh activation.</summary>
    private async Task<ConversationThreadState> ThreadMatchesStorageAsync(IConversationThreadGrain thread)
    {
        var stored = await ReadStoredAsync<ConversationThreadState>("thread", thread);
        Assert.Equal(stored.CurrentStarted ? stored.CurrentConversationId : null, await thread.Find());
        Assert.Equal(stored.CurrentStarted ? stored.CurrentConversationId : null, await FreshAsync(thread, () => thread.Find()));
        return stored;
    }

    private async Task<CustomerState> CustomerMatchesStorageAsync(ICustomerGrain customer, bool andFresh = true)
    {
        var stored = await ReadStoredAsync<CustomerState>("customer", customer);
        var live = await customer.GetProfile();
        Assert.Equal(CustomerView.Of(stored), CustomerView.Of(live));
        if (andFresh)
        {
            Assert.Equal(Json(live), Json(await FreshAsync(customer, () => customer.GetProfile())));
        }

        return stored;
    }

    private async Task<ImmutableArray<TimelineEntry>> SegmentMatchesStorageAsync(IConversationSegmentGrain segment)
    {
        var stored = (await ReadStoredAsync<ConversationSegmentState>("segment", segment)).Entries;
        var expected = stored.IsDefault ? [] : stored;
        Assert.Equal(Json(expected), Json(await segment.Read()));
        Assert.Equal(Json(expected), Json(await FreshAsync(segment, () => segment.Read())));
        return expected;
    }

    /// <summary>Compares the snapshot and the timeline's stored part (the recent entries) with storage, live and fresh.</summary>
    private async Task<ConversationState> ConversationMatchesStorageAsync(IConversationGrain conversation)
    {
        var stored = await ReadStoredAsync<ConversationState>("conversation", conversation);
        var live = await ConversationRead.ReadAsync(conversation, stored.SealedThrough);
        Assert.Equal(ConversationView.Of(stored), ConversationView.Of(live));
        Assert.Equal(Json(live), Json(await FreshAsync(conversation, () => ConversationRead.ReadAsync(conversation, stored.SealedThrough))));
        return stored;
    }

    private async Task<QueueState> QueueMatchesStorageAsync(IQueueGrain queue, bool andFresh = true)
    {
        var stored = await ReadStoredQueueAsync(queue);
        var now = _clock.GetUtcNow();
        var expected = (stored.Waiting.Count, stored.Waiting.Count == 0 ? TimeSpan.Zero : now - stored.Waiting.Min(w => w.WaitingSince));
        var live = await queue.GetStats();
        Assert.Equal(expected, (live.Waiting, live.LongestWait));
        if (andFresh)
        {
            var fresh = await FreshAsync(queue, () => queue.GetStats());
            Assert.Equal(expected, (fresh.Waiting, fresh.LongestWait));
        }

        return stored;
    }

    /// <summary>Offers are not stored (a fresh activation holds none), so only the stored parts of the status are compared.</summary>
    private async Task<AgentState> AgentMatchesStorageAsync(IAgentGrain agent, bool andFresh = true)
    {
        var stored = await ReadStoredAsync<AgentState>("agent", agent);
        var expected = AgentView.Of(stored);
        Assert.Equal(expected, AgentView.Of(await agent.GetStatus()));
        if (andFresh)
        {
            Assert.Equal(expected, AgentView.Of(await FreshAsync(agent, () => agent.GetStatus())));
        }

        return stored;
    }

    private async Task<(AgentPresence, int)> StoredPresenceAndMissesAsync(IAgentGrain agent)
    {
        var stored = await ReadStoredAsync<AgentState>("agent", agent);
        return (stored.Presence, stored.MissedOffers);
    }

    private async Task<T> ReadStoredAsync<T>(string stateName, IAddressable grain)
        where T : new() =>
        (await _storage.ReadStoredAsync<T>(stateName, grain.GetGrainId())).State!;

    /// <summary>A queue's stored waiting list and claims, gathered from all its partitions ("queue", "queue-1", …).</summary>
    private async Task<QueueState> ReadStoredQueueAsync(IAddressable queue)
    {
        var gathered = new QueueState();
        for (var partition = 0; partition < WaitingPartitions.Count; partition++)
        {
            var stored = await ReadStoredAsync<QueueState>(WaitingPartitions.StateName(partition), queue);
            gathered.Waiting.AddRange(stored.Waiting);
            gathered.RecentClaims.AddRange(stored.RecentClaims);
        }

        return gathered;
    }

    /// <summary>Ends the grain's activation, then asks a fresh one, which starts from storage.</summary>
    private async Task<T> FreshAsync<T>(IAddressable grain, Func<Task<T>> read)
    {
        await grain.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        await Eventually.ActivationGoneAsync(Grains, grain.GetGrainId());
        return await read();
    }

    /// <summary>
    /// Waits for a failure no caller hears (in a one-way call or a timer), then for the grain to finish
    /// that turn: <paramref name="nextTurn"/> changes nothing and runs only after it. (A read that
    /// interleaves could run while the failed change is still being undone.)
    /// </summary>
    private async Task WaitForUnheardFailureAsync(Func<Task> nextTurn)
    {
        // The failure, then its reload: the queue is reentrant, so a call may run between the two.
        await EventuallyAsync(() => Task.FromResult((_storage.InjectedWriteFailures, _storage.ReadsAfterLastInjectedFailure)), seen => seen is ( >= 1, >= 1));
        await nextTurn();
    }

    /// <summary>A claim of an offer the queue never made: changes nothing, and waits for the queue's turn.</summary>
    private static async Task NextTurnOfAsync(IQueueGrain queue) => Assert.False(await queue.Claim("no-such-offer", "nobody"));

    private static async Task AssertWriteFailsAsync(string stateName, Func<Task> call)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(call);
        // A queue writes one of its partitions: "queue" or "queue-N".
        Assert.Matches($@"Injected failure writing {stateName}(-[0-9]+)? of", failure.ToString());
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value);

    // ---- Arranging --------------------------------------------------------------------------------

    private IConversationThreadGrain NewThread() =>
        Grains.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread")));

    private static CustomerIdentity NewCustomer() => TestData.Customer(TestData.UniqueId("cust"));

    private IConversationGrain Conversation(string id) => Grains.GetGrain<IConversationGrain>(id);

    private ICustomerGrain CustomerOf(CustomerIdentity customer) =>
        Grains.GetGrain<ICustomerGrain>(GrainKeys.Customer(TestData.Channel, customer.ExternalCustomerId));

    private IQueueGrain Queue(string key) => Grains.GetGrain<IQueueGrain>(key);

    /// <summary>
    /// Enqueues <paramref name="count"/> conversations of one partition: the first one's write is
    /// held in flight, the others come in while it is (the queue is reentrant) and wait for theirs.
    /// </summary>
    private async Task<(IQueueGrain Queue, int Partition, string[] Ids, FaultyGrainStorage.HeldWrite Held, Task<QueuePlacement> First, List<Task<QueuePlacement>> Others)> EnqueueBehindAHeldWriteAsync(int count)
    {
        var queue = Queue(QueueKey);
        var (partition, ids) = ConversationIdsOfOnePartition(count);
        var held = _storage.HoldNextWrite(WaitingPartitions.StateName(partition), queue.GetGrainId());
        var first = queue.Enqueue(Waiting(ids[0]));
        await held.Reached.WaitAsync(SafetyTimeout);
        var others = ids[1..].Select(id => queue.Enqueue(Waiting(id))).ToList();
        await Eventually.ReadAsync(() => queue.GetStats(), stats => stats.Waiting == ids.Length);
        return (queue, partition, ids, held, first, others);
    }

    private QueueRequest Waiting(string conversationId) =>
        new(conversationId, TestData.Channel, Priority: 0, _clock.GetUtcNow(), OwnershipReasons.CustomerAskedForHuman, PreferredAgentId: null);

    /// <summary>New conversation ids that a queue stores in one partition, in the order made (which is their queue order: same priority and wait).</summary>
    private static (int Partition, string[] Ids) ConversationIdsOfOnePartition(int count)
    {
        var partition = WaitingPartitions.IndexFor(TestData.UniqueId("c"));
        var ids = new List<string>();
        while (ids.Count < count)
        {
            var id = TestData.UniqueId("c");
            if (WaitingPartitions.IndexFor(id) == partition)
            {
                ids.Add(id);
            }
        }

        return (partition, [.. ids]);
    }

    private async Task<(IConversationThreadGrain Thread, IConversationGrain Conversation)> StartConversationAsync(CustomerIdentity customer)
    {
        var thread = NewThread();
        var started = await thread.GetOrStart(customer, knownClosedId: null);
        Assert.NotNull(started);
        return (thread, Conversation(started.ConversationId));
    }

    /// <summary>A conversation with one question answered by the bot: three entries.</summary>
    private async Task<IConversationGrain> TalkToBotAsync()
    {
        var (_, conversation) = await StartConversationAsync(NewCustomer());
        var answer = await conversation.ReceiveCustomerMessage(TestData.Message("m1", Refund), deliverTo: null);
        Assert.Equal((InboundOutcome.Accepted, 3L), (answer.Outcome, answer.LastSequence));
        return conversation;
    }

    /// <summary>A conversation waiting in <see cref="QueueKey"/>: six entries.</summary>
    private async Task<IConversationGrain> AskForHumanAsync()
    {
        var conversation = await TalkToBotAsync();
        var handoff = await conversation.ReceiveCustomerMessage(TestData.Message("m2", AskForHuman), deliverTo: null);
        Assert.Equal((StatusKind.Queued, 6L), (handoff.Entries[^1].Status?.Kind, handoff.LastSequence));
        return conversation;
    }

    /// <summary>A conversation the agent accepted: seven entries.</summary>
    private async Task<(IAgentGrain Agent, RecordingDesk Desk, IConversationGrain Conversation)> AssignAsync(string agentId)
    {
        var (agent, desk) = await ConnectAsync(agentId);
        var conversation = await AskForHumanAsync();
        var offer = await WaitForStoredOfferAsync(desk, conversation);
        await agent.Accept(offer.OfferId);
        var snapshot = await conversation.GetSnapshot();
        Assert.Equal((new Owner(OwnerKind.Agent, agentId), 7L), (snapshot.Owner, snapshot.LastSequence));
        return (agent, desk, conversation);
    }

    /// <summary>
    /// The queue's offer of <paramref name="conversation"/>, once the desk shows it and the queue has
    /// stored it (the agent is shown an offer before the queue stores it: a fault armed in between
    /// would hit that write instead).
    /// </summary>
    private async Task<OfferView> WaitForStoredOfferAsync(RecordingDesk desk, IConversationGrain conversation)
    {
        var offer = await desk.WaitForOfferAsync(conversation);
        await EventuallyAsync(
            async () => (await ReadStoredQueueAsync(Queue(offer.QueueKey))).Waiting
                .Find(w => w.ConversationId == conversation.GetPrimaryKeyString())?.Offer?.OfferId,
            stored => stored == offer.OfferId);
        return offer;
    }

    private async Task<(IAgentGrain Agent, RecordingDesk Desk)> ConnectAsync(string agentId, int capacity = 3)
    {
        var desk = new RecordingDesk();
        desk.Reference = _cluster.Client.CreateObjectReference<IAgentObserver>(desk);
        var agent = Grains.GetGrain<IAgentGrain>(agentId);
        await agent.Connect(Profile(agentId, capacity), desk.Reference);
        return (agent, desk);
    }

    private static AgentProfile Profile(string agentId, int capacity = 3) =>
        new(agentId, [new SkillLevel("billing", 4)], ["en"], capacity, ImmutableDictionary<string, int>.Empty);

    private (RecordingConversationObserver Observer, IConversationObserver Reference) NewConversationObserver()
    {
        var observer = new RecordingConversationObserver();
        return (observer, _cluster.Client.CreateObjectReference<IConversationObserver>(observer));
    }

    private OfferRequest Offer(IConversationGrain conversation) => new(
        Guid.NewGuid().ToString("N"), conversation.GetPrimaryKeyString(), TestData.Channel, QueueKey,
        Priority: 0, WaitingSince: _clock.GetUtcNow(), ExpiresAt: _clock.GetUtcNow() + Routing.OfferTimeout);

    /// <summary>Polls until <paramref name="done"/> holds, bounded by a safety limit (never a timing assertion).</summary>
    private static Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done) => Eventually.ReadAsync(read, done);

    /// <summary>What a conversation answers: its snapshot, and its timeline after the sealed segments.</summary>
    private sealed record ConversationRead(ConversationSnapshot Snapshot, ImmutableArray<TimelineEntry> Recent)
    {
        public static async Task<ConversationRead> ReadAsync(IConversationGrain conversation, long sealedThrough)
        {
            var snapshot = await conversation.GetSnapshot();
            return snapshot.Status == ConversationStatus.None
                ? new ConversationRead(snapshot, [])
                : new ConversationRead(snapshot, (await conversation.GetTimeline(snapshot.Channel, sealedThrough, ConversationLimits.MaxPageSize)).Entries);
        }
    }

    /// <summary>The stored parts of a conversation, as its state holds them and as it answers them.</summary>
    private sealed record ConversationView(
        string Channel, string ThreadId, string CustomerKey, ConversationStatus Status, Owner Owner, long LastSequence, DateTimeOffset StartedAt,
        string Ledger, string Recent)
    {
        public static ConversationView Of(ConversationState state) => new(
            state.Channel, state.ExternalThreadId, state.CustomerKey, state.Status, state.Owner, state.LastSequence, state.StartedAt,
            Json(state.Ledger), Json(state.RecentEntries));

        public static ConversationView Of(ConversationRead read) => new(
            read.Snapshot.Channel, read.Snapshot.ExternalThreadId, read.Snapshot.CustomerKey, read.Snapshot.Status, read.Snapshot.Owner,
            read.Snapshot.LastSequence, read.Snapshot.StartedAt, Json(read.Snapshot.Ledger), Json(read.Recent));
    }

    private sealed record CustomerView(string? DisplayName, string? Language, CustomerTier Tier, string Contacts)
    {
        public static CustomerView Of(CustomerState state) => new(state.DisplayName, state.Language, state.Tier, string.Join(" | ", state.Contacts));

        public static CustomerView Of(CustomerProfile profile) => new(profile.DisplayName, profile.Language, profile.Tier, string.Join(" | ", profile.Contacts));
    }

    private sealed record AgentView(string? DisplayName, AgentPresence Presence, bool Connected, int Assignments, DateTimeOffset IdleSince)
    {
        public static AgentView Of(AgentStatus status) => new(status.DisplayName, status.Presence, status.Connected, status.Assignments, status.IdleSince);

        public static AgentView Of(AgentState state) => new(
            state.Profile?.DisplayName, state.Presence, state.Observer is not null && state.DisconnectedAt is null, state.Assignments.Count, state.IdleSince);
    }

    /// <summary>An adapter connection stand-in: records every entry pushed to it.</summary>
    private sealed class RecordingConversationObserver : IConversationObserver
    {
        private readonly ConcurrentQueue<TimelineEntry> _entries = new();

        public IReadOnlyCollection<TimelineEntry> Entries => _entries;

        public Task OnEntries(string conversationId, ImmutableArray<TimelineEntry> entries)
        {
            foreach (var entry in entries)
            {
                _entries.Enqueue(entry);
            }

            return Task.CompletedTask;
        }

        public async Task<TimelineEntry> WaitForAsync(Func<TimelineEntry, bool> match) =>
            (await EventuallyAsync(() => Task.FromResult(_entries.FirstOrDefault(match)), found => found is not null))!;
    }

    /// <summary>An agent desktop stand-in: records every event pushed to it.</summary>
    private sealed class RecordingDesk : IAgentObserver
    {
        private readonly ConcurrentQueue<AgentEvent> _events = new();

        public IAgentObserver Reference { get; set; } = null!;

        public Task OnEvent(string agentId, AgentEvent agentEvent)
        {
            _events.Enqueue(agentEvent);
            return Task.CompletedTask;
        }

        public async Task<OfferView> WaitForOfferAsync(IConversationGrain conversation) =>
            (await WaitForAsync(e => e.Offer?.Context.ConversationId == conversation.GetPrimaryKeyString())).Offer!;

        public async Task<AgentEvent> WaitForAsync(Func<AgentEvent, bool> match) =>
            (await EventuallyAsync(() => Task.FromResult(_events.FirstOrDefault(match)), found => found is not null))!;
    }
}
