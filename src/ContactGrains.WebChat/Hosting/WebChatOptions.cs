namespace ContactGrains.WebChat.Hosting;

/// <summary>The web chat's settings, section <c>ContactGrains:WebChat</c>.</summary>
public sealed class WebChatOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "ContactGrains:WebChat";

    /// <summary>The development silo's gRPC address, used when no silo is configured.</summary>
    public const string DefaultSilo = "http://127.0.0.1:5000";

    /// <summary>The cluster's limit on a customer message (see the channel API).</summary>
    public const int ClusterMaxTextLength = 4096;

    /// <summary>Where the page is served, e.g. <c>http://127.0.0.1:5080</c>; several separated by ';'.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5080";

    /// <summary>The silos' gRPC addresses (a list, or one string separated by ';' or ','). Default: the development silo.</summary>
    public List<string> Silos { get; set; } = [];

    /// <summary>The channel name this adapter speaks for.</summary>
    public string Channel { get; set; } = "webchat";

    /// <summary>
    /// The channel's API key (<c>ContactGrains.Silo key channel webchat</c> makes one). Empty: the
    /// channel's development key, which only a development silo accepts.
    /// </summary>
    public string ApiKey { get; set; } = "";

    /// <summary>The longest message a customer may send, at most the cluster's 4,096 characters.</summary>
    public int MaxMessageLength { get; set; } = 2000;

    /// <summary>How long a browser keeps its session (and so its conversation) without coming back.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Where the keys that sign session cookies are kept. Empty: ASP.NET Core's default (the user
    /// profile). Set it to a shared folder when several web chat instances serve the same customers.
    /// </summary>
    public string KeysDirectory { get; set; } = "";

    /// <summary>How often an idle event stream sends a comment, so proxies and browsers keep it open.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often a stream that waits for the customer's first message looks for it in the cluster (another instance may have sent it).</summary>
    public TimeSpan IdlePollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Returns why these settings cannot work, or null when they can.</summary>
    public string? Validate()
    {
        if (Silos.Count == 0)
        {
            return "no silo address: set ContactGrains:WebChat:Silos (e.g. http://127.0.0.1:5000).";
        }

        foreach (var silo in Silos)
        {
            if (!Uri.TryCreate(silo, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                return $"ContactGrains:WebChat:Silos has '{silo}', which is not an http:// or https:// address (e.g. http://127.0.0.1:5000).";
            }
        }

        if (string.IsNullOrWhiteSpace(Urls))
        {
            return "ContactGrains:WebChat:Urls is empty: give the address to serve the page on (e.g. http://127.0.0.1:5080).";
        }

        if (string.IsNullOrWhiteSpace(Channel))
        {
            return "ContactGrains:WebChat:Channel is empty (default: webchat).";
        }

        if (MaxMessageLength < 1 || MaxMessageLength > ClusterMaxTextLength)
        {
            return $"ContactGrains:WebChat:MaxMessageLength is {MaxMessageLength}; it must be between 1 and {ClusterMaxTextLength}, the cluster's limit.";
        }

        if (SessionLifetime <= TimeSpan.Zero || HeartbeatInterval <= TimeSpan.Zero || IdlePollInterval <= TimeSpan.Zero)
        {
            return "ContactGrains:WebChat:SessionLifetime, HeartbeatInterval and IdlePollInterval must be more than zero.";
        }

        return null;
    }
}
