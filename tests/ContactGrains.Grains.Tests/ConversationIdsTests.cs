using ContactGrains.Bot;
using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using Orleans.TestingHost;

namespace ContactGrains.Grains.Tests;

public sealed class ConversationIdsTests
{
    [Theory]
    [InlineData("webchat:v-3f2a9c", 0)]
    [InlineData("sms:+33612345678", 7)]
    [InlineData("whatsapp:thread:with:colons", 41)]
    [InlineData("webchat:é-unicode-✓", 0)]
    public void An_id_is_32_lowercase_hex_digits_and_the_same_every_time(string threadKey, int ordinal)
    {
        var id = ConversationIds.ForThread(threadKey, ordinal);

        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal(id, ConversationIds.ForThread(threadKey, ordinal));
    }

    [Fact]
    public void The_derivation_never_changes_because_a_retried_start_depends_on_it()
    {
        // A thread whose start failed halfway retries on the id derived by the version that failed:
        // the ids of a given thread and ordinal are fixed forever.
        Assert.Equal("917b8b48dcb2fd8eba3f5b5fdd4fc742", ConversationIds.ForThread("webchat:v-3f2a9c", 0));
        Assert.Equal("176749158a50d8dd14ce17031951504b", ConversationIds.ForThread("sms:+33612345678", 1));
    }

    [Fact]
    public void Every_thread_and_ordinal_has_its_own_id()
    {
        var keys = new[] { "sms:+33612345678", "sms:+3361234567", "sms:+336123456781", "webchat:+33612345678", "sms:+33612345678 " };
        var ids = keys.SelectMany(key => Enumerable.Range(0, 200).Select(ordinal => ConversationIds.ForThread(key, ordinal))).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void A_seed_gives_every_thread_other_ids_and_no_seed_is_the_durable_derivation()
    {
        const string key = "webchat:v-3f2a9c";

        Assert.Equal(ConversationIds.ForThread(key, 0), ConversationIds.ForThread(key, 0, seed: ""));
        Assert.NotEqual(ConversationIds.ForThread(key, 0), ConversationIds.ForThread(key, 0, seed: "5d1e"));
        Assert.NotEqual(ConversationIds.ForThread(key, 0, seed: "5d1e"), ConversationIds.ForThread(key, 0, seed: "5d1f"));
        Assert.Equal(ConversationIds.ForThread(key, 3, seed: "5d1e"), ConversationIds.ForThread(key, 3, seed: "5d1e"));
    }

    [Fact]
    public async Task With_in_process_storage_a_restarted_silo_does_not_hand_out_the_ids_of_the_one_before()
    {
        // The development profile's storage forgets every thread with its process; a browser may
        // still hold the old conversation's id (its last event id) and must not find it again.
        var thread = GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread"));
        var customer = TestData.Customer(TestData.UniqueId("cust"));
        var before = await StartOnAFreshSiloAsync(thread, customer);
        var after = await StartOnAFreshSiloAsync(thread, customer);

        Assert.NotEqual(before, after);
        Assert.NotEqual(ConversationIds.ForThread(thread, 0), before);
    }

    private static async Task<string> StartOnAFreshSiloAsync(string thread, CustomerIdentity customer)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureHost(host => host.Services.AddContactGrainsDomain(KnowledgeBase.Load(KnowledgeBase.DefaultPath)));
        builder.ConfigureSilo((_, silo) => silo.AddContactGrainsInProcessStorage().UseInMemoryReminderService());
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var started = await cluster.Client.GetGrain<IConversationThreadGrain>(thread).GetOrStart(customer, knownClosedId: null);
        Assert.True(started?.Created);
        return started!.ConversationId;
    }

    [Fact]
    public void A_negative_ordinal_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ConversationIds.ForThread("sms:+33612345678", -1));
}
