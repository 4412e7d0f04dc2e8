using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// The development profile's storage must behave like a database to the grains: what a grain reads
/// is its own copy, a write from a stale activation is refused, a cleared state starts afresh.
/// </summary>
public sealed class InProcessGrainStorageTests : IDisposable
{
    private static readonly GrainId Conversation = GrainId.Create("conversation", "webchat:t-1");
    private readonly ServiceProvider _services;
    private readonly InProcessGrainStorage _storage;

    public InProcessGrainStorageTests()
    {
        _services = new ServiceCollection().AddSerializer(s => s.AddAssembly(typeof(ConversationState).Assembly)).BuildServiceProvider();
        _storage = new InProcessGrainStorage(_services.GetRequiredService<DeepCopier>());
    }

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task A_state_never_written_reads_as_a_new_instance_with_no_record()
    {
        var state = await ReadAsync();

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Equal(ConversationStatus.None, state.State!.Status);
    }

    [Fact]
    public async Task Changes_made_after_a_write_are_not_stored_until_the_next_write()
    {
        var grain = await ReadAsync();
        grain.State!.Channel = "webchat";
        grain.State!.IntentsAnswered.Add("refund_status");
        await _storage.WriteStateAsync("conversation", Conversation, grain);

        // A commit that fails after changing the state in place: reading back gives what was stored.
        grain.State!.Channel = "sms";
        grain.State!.IntentsAnswered.Add("fraud_report");
        var reloaded = await ReadAsync();

        Assert.True(reloaded.RecordExists);
        Assert.Equal(grain.ETag, reloaded.ETag);
        Assert.Equal("webchat", reloaded.State!.Channel);
        Assert.Equal(["refund_status"], reloaded.State!.IntentsAnswered);
    }

    [Fact]
    public async Task Each_read_is_a_copy_of_its_own()
    {
        var grain = await ReadAsync();
        grain.State!.IntentsAnswered.Add("refund_status");
        await _storage.WriteStateAsync("conversation", Conversation, grain);

        var first = await ReadAsync();
        first.State!.IntentsAnswered.Add("changed by one reader");

        Assert.Equal(["refund_status"], (await ReadAsync()).State!.IntentsAnswered);
    }

    [Fact]
    public async Task A_write_from_a_stale_activation_is_refused_and_leaves_the_stored_state()
    {
        var first = await ReadAsync();
        var second = await ReadAsync(); // both read "no record"
        first.State!.Channel = "webchat";
        await _storage.WriteStateAsync("conversation", Conversation, first);

        second.State!.Channel = "sms";
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("conversation", Conversation, second));

        var stale = await ReadAsync();
        first.State!.Channel = "whatsapp";
        await _storage.WriteStateAsync("conversation", Conversation, first);
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("conversation", Conversation, stale));
        Assert.Equal("whatsapp", (await ReadAsync()).State!.Channel);
    }

    [Fact]
    public async Task Each_write_gets_a_new_etag()
    {
        var grain = await ReadAsync();
        await _storage.WriteStateAsync("conversation", Conversation, grain);
        var firstETag = grain.ETag;
        await _storage.WriteStateAsync("conversation", Conversation, grain);

        Assert.NotNull(firstETag);
        Assert.NotEqual(firstETag, grain.ETag);
    }

    [Fact]
    public async Task A_cleared_state_reads_as_new_and_a_stale_clear_is_refused()
    {
        var grain = await ReadAsync();
        grain.State!.Channel = "webchat";
        await _storage.WriteStateAsync("conversation", Conversation, grain);
        var stale = await ReadAsync();
        await _storage.WriteStateAsync("conversation", Conversation, grain);

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.ClearStateAsync("conversation", Conversation, stale));
        await _storage.ClearStateAsync("conversation", Conversation, grain);

        Assert.False(grain.RecordExists);
        Assert.Null(grain.ETag);
        var reread = await ReadAsync();
        Assert.False(reread.RecordExists);
        Assert.Equal("", reread.State!.Channel);
    }

    [Fact]
    public async Task States_of_different_names_and_grains_are_apart()
    {
        var grain = await ReadAsync();
        grain.State!.Channel = "webchat";
        await _storage.WriteStateAsync("conversation", Conversation, grain);

        IGrainState<ConversationState> otherName = new GrainState<ConversationState>(new ConversationState());
        await _storage.ReadStateAsync("other", Conversation, otherName);
        IGrainState<ConversationState> otherGrain = new GrainState<ConversationState>(new ConversationState());
        await _storage.ReadStateAsync("conversation", GrainId.Create("conversation", "webchat:t-2"), otherGrain);

        Assert.False(otherName.RecordExists);
        Assert.False(otherGrain.RecordExists);
    }

    private async Task<IGrainState<ConversationState>> ReadAsync()
    {
        IGrainState<ConversationState> state = new GrainState<ConversationState>(new ConversationState());
        await _storage.ReadStateAsync("conversation", Conversation, state);
        return state;
    }
}
