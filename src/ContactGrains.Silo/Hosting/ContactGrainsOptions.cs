namespace ContactGrains.Silo.Hosting;

/// <summary>The "ContactGrains" configuration section.</summary>
public sealed class ContactGrainsOptions
{
    public const string SectionName = "ContactGrains";

    /// <summary>Where gRPC listens (HTTP/2 cleartext unless https). Semicolon-separated.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5000";

    /// <summary>
    /// Where the supervisor console and the JSON supervisor API (/api/v1) listen, over HTTP/1.1 for
    /// browsers; each with a port of its own, apart from <see cref="Urls"/>. Semicolon-separated;
    /// empty: no console (the gRPC supervisor API stays on <see cref="Urls"/>).
    /// </summary>
    public string ConsoleUrls { get; set; } = "";

    public ClusterOptions Cluster { get; set; } = new();

    public BotOptions Bot { get; set; } = new();

    public StorageOptions Storage { get; set; } = new();

    public LimitOptions Limits { get; set; } = new();

    /// <summary>Rate limits the silo applies per channel (the per-conversation one is in ContactGrains:Conversations).</summary>
    public sealed class LimitOptions
    {
        /// <summary>
        /// Customer messages per second one silo accepts from one channel (also its burst). The
        /// default is above what one silo serves on a small machine, so it only stops a runaway
        /// adapter; set it to each channel's contract.
        /// </summary>
        public int ChannelMessagesPerSecond { get; set; } = 20_000;

        /// <summary>
        /// How long a write to an adapter's or agent's stream may wait on a client that stopped reading
        /// before the stream is ended (the adapter resumes; the agent's grace period starts).
        /// </summary>
        public TimeSpan StalledStreamTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>HTTP/2 PING after this much silence on a connection, so dead peers and idle NATs are noticed.</summary>
        public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>A connection whose PING is not answered within this is closed.</summary>
        public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

        /// <summary>Per-channel overrides of <see cref="ChannelMessagesPerSecond"/>, by channel name.</summary>
        public Dictionary<string, int> Channels { get; set; } = new(StringComparer.Ordinal);

        public int MessagesPerSecond(string channel) =>
            Channels.TryGetValue(channel, out var perSecond) ? perSecond : ChannelMessagesPerSecond;

        /// <summary>Why these limits cannot work, or null.</summary>
        public string? Validate()
        {
            if (ChannelMessagesPerSecond < 1 || Channels.Values.Any(v => v < 1))
            {
                return "ContactGrains:Limits:ChannelMessagesPerSecond and every ContactGrains:Limits:Channels entry must be at least 1 message a second.";
            }

            if (StalledStreamTimeout < TimeSpan.FromSeconds(1) || KeepAlivePingDelay < TimeSpan.FromSeconds(1) || KeepAlivePingTimeout < TimeSpan.FromSeconds(1))
            {
                return "ContactGrains:Limits:StalledStreamTimeout, KeepAlivePingDelay and KeepAlivePingTimeout must each be at least 1 second (defaults 30 s, 30 s and 20 s).";
            }

            return null;
        }
    }

    public sealed class ClusterOptions
    {
        /// <summary>Identifies the application across deployments; part of every stored grain's key.</summary>
        public string ServiceId { get; set; } = "contactgrains";

        /// <summary>Identifies one cluster (one set of silos that talk to each other).</summary>
        public string ClusterId { get; set; } = "dev";

        /// <summary>Silo-to-silo port (localhost clustering in the dev profile).</summary>
        public int SiloPort { get; set; } = 11111;

        /// <summary>Port for external Orleans clients.</summary>
        public int GatewayPort { get; set; } = 30000;

        /// <summary>The address other silos reach this one at (PostgreSQL profile); loopback by default.</summary>
        public string AdvertisedAddress { get; set; } = "127.0.0.1";

        /// <summary>
        /// Declare a silo dead after about 3 s of silence instead of Orleans' default (about 30 s or
        /// more). For tests and demos on one machine: on a real network, short timeouts turn a slow
        /// moment into a false death.
        /// </summary>
        public bool FastFailureDetection { get; set; }

        /// <summary>
        /// The longest a gRPC call, or one frame of an adapter stream, waits for the grains before the
        /// caller gets UNAVAILABLE (a caller's shorter deadline wins). It is also Orleans' response
        /// timeout for grain-to-grain calls. A chat message takes milliseconds; this bounds how long an
        /// adapter waits when a silo or the database is gone (Orleans' own default is 30 s).
        /// </summary>
        public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);
    }

    /// <summary>Where state, membership and reminders live.</summary>
    public enum StorageProvider
    {
        /// <summary>Development: one silo, everything in memory, lost when the process stops.</summary>
        Memory,

        /// <summary>Production: clustering, grain state and reminders in PostgreSQL.</summary>
        PostgreSql,
    }

    public sealed class StorageOptions
    {
        public StorageProvider Provider { get; set; } = StorageProvider.Memory;

        /// <summary>Npgsql connection string; required for <see cref="StorageProvider.PostgreSql"/>.</summary>
        public string? ConnectionString { get; set; }

        /// <summary>How state and reminder changes are grouped into transactions (PostgreSQL only).</summary>
        public ContactGrains.Persistence.Storage.GroupCommitOptions GroupCommit { get; set; } = new();
    }

    public sealed class BotOptions
    {
        /// <summary>The knowledge base JSON file; empty means the shipped sample.</summary>
        public string? KnowledgeBasePath { get; set; }
    }
}
