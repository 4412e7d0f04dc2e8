using ContactGrains.Client;
using ContactGrains.Protos.V1;
using ContactGrains.WebChat.Tests.Browser;
using ContactGrains.WebChat.Tests.Hosts;

namespace ContactGrains.WebChat.Tests;

/// <summary>A silo (in-memory storage), the web chat speaking to it, and a browser, shared by a collection's tests.</summary>
public class WebChatFixture : IAsyncLifetime
{
    public SiloHost Silo { get; private set; } = null!;

    public WebChatHost WebChat { get; private set; } = null!;

    public Chromium Chromium { get; private set; } = null!;

    /// <summary>The test's own view of the cluster, as the webchat channel, to read transcripts.</summary>
    public ChannelConnection Cluster { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Silo = CreateSilo();
        await Silo.StartAsync();
        WebChat = new WebChatHost(Silo.Address);
        await WebChat.StartAsync();
        Chromium = await Chromium.LaunchAsync();
        Cluster = ChannelConnection.Open("webchat", Silo.Address);
    }

    public virtual async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        if (Chromium is not null)
        {
            await Chromium.DisposeAsync();
        }

        if (WebChat is not null)
        {
            await WebChat.DisposeAsync();
        }

        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }
    }

    /// <summary>The whole stored timeline of a conversation, as the cluster has it.</summary>
    public async Task<IReadOnlyList<TimelineEntry>> TranscriptAsync(string conversationId)
    {
        var entries = new List<TimelineEntry>();
        await foreach (var entry in Cluster.ReadTranscriptAsync(ConversationAddress.ForId(conversationId)))
        {
            entries.Add(entry);
        }

        return entries;
    }

    protected virtual SiloHost CreateSilo() => new();
}

[CollectionDefinition(Name)]
public sealed class WebChatCollection : ICollectionFixture<WebChatFixture>
{
    public const string Name = "webchat";
}
