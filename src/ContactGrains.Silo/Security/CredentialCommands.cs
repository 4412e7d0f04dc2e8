using System.Globalization;
using ContactGrains.Client;
using ContactGrains.Silo.Hosting;

namespace ContactGrains.Silo.Security;

/// <summary>
/// <c>key channel NAME</c>, <c>key signing</c> and <c>token AGENT_ID [--role R]… [--hours H] [--name N]</c>:
/// what an operator runs to issue credentials. Tokens are signed with ContactGrains:Auth:SigningKey,
/// or with the development key on a silo that accepts development credentials.
/// </summary>
public static class CredentialCommands
{
    public const string Usage = """
        Usage:
          ContactGrains.Silo key channel NAME      a new API key for a channel adapter, and the hash to configure
          ContactGrains.Silo key signing           a new signing key for agent tokens (ContactGrains:Auth:SigningKey)
          ContactGrains.Silo token AGENT_ID [--role agent|supervisor]... [--hours 12] [--name "Display Name"]
                                                   a bearer token for an agent desktop or a supervisor
        """;

    /// <summary>The longest a token may live: a stream authenticates once, so a token is not re-checked while it stays open.</summary>
    public const int MaxHours = 24 * 30;

    public static int Run(string[] args, IConfiguration configuration, TextWriter output, TextWriter errors)
    {
        switch (args)
        {
            case ["key", "channel", var channel, ..]:
                if (!ChannelNames.IsValid(channel))
                {
                    errors.WriteLine($"error: a channel is {ChannelNames.Rule}.");
                    return 2;
                }

                var key = ChannelKeys.NewKey();
                output.WriteLine($"API key for channel '{channel}' (give it to the adapter; it is not stored anywhere):");
                output.WriteLine($"  {key}");
                output.WriteLine("Add its hash to ContactGrains:Auth:Channels on every silo, as the next entry of the list");
                output.WriteLine("(in appsettings.json, or as environment variables with the next free index N):");
                output.WriteLine($"  {{ \"Channel\": \"{channel}\", \"KeySha256\": \"{ChannelKeys.Hash(key)}\" }}");
                output.WriteLine($"  ContactGrains__Auth__Channels__N__Channel={channel}");
                output.WriteLine($"  ContactGrains__Auth__Channels__N__KeySha256={ChannelKeys.Hash(key)}");
                return 0;

            case ["key", "signing", ..]:
                output.WriteLine("Signing key for agent tokens (ContactGrains:Auth:SigningKey; the same on every silo, kept secret):");
                output.WriteLine($"  {AccessTokens.NewSigningKey()}");
                return 0;

            case ["token", var agentId, .. var rest]:
                return IssueToken(agentId, rest, configuration, output, errors);

            default:
                errors.WriteLine(Usage);
                return 2;
        }
    }

    private static int IssueToken(string agentId, string[] options, IConfiguration configuration, TextWriter output, TextWriter errors)
    {
        if (!AgentClient.IsValidAgentId(agentId))
        {
            errors.WriteLine($"error: an agent id is {AgentClient.AgentIdRule}.");
            return 2;
        }

        var roles = new List<string>();
        var hours = 12.0;
        string? name = null;
        for (var i = 0; i < options.Length; i++)
        {
            switch (options[i])
            {
                case "--role" when i + 1 < options.Length && options[i + 1] is AccessTokens.AgentRole or AccessTokens.SupervisorRole:
                    roles.Add(options[++i]);
                    break;
                case "--hours" when i + 1 < options.Length && double.TryParse(options[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out hours) && hours is > 0 and <= MaxHours:
                    i++;
                    break;
                case "--name" when i + 1 < options.Length:
                    name = options[++i];
                    break;
                case var other when other.StartsWith("--ContactGrains", StringComparison.Ordinal):
                    // Configuration on the command line (e.g. the signing key), read by the host.
                    break;
                default:
                    errors.WriteLine($"error: '{options[i]}' is not understood: --role takes agent or supervisor, --hours a number of hours up to {MaxHours} (30 days), --name a display name.");
                    errors.WriteLine(Usage);
                    return 2;
            }
        }

        var auth = configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new();
        var silo = configuration.GetSection(ContactGrainsOptions.SectionName).Get<ContactGrainsOptions>() ?? new();
        byte[] signingKey;
        try
        {
            signingKey = auth.SigningKeyBytes()
                ?? (auth.UsesDevelopmentCredentials(silo.Storage.Provider == ContactGrainsOptions.StorageProvider.Memory)
                    ? DevelopmentCredentials.SigningKey
                    : throw new InvalidOperationException($"no signing key: set {AuthOptions.SectionName}:SigningKey (as the silos have it)."));
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException)
        {
            errors.WriteLine($"error: {ex.Message}");
            return 2;
        }

        var expires = DateTimeOffset.UtcNow.AddHours(hours);
        output.WriteLine(AccessTokens.Issue(agentId, roles.Count == 0 ? [AccessTokens.AgentRole] : roles, signingKey, expires, auth.Issuer, auth.Audience, name));
        return 0;
    }
}
