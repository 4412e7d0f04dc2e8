using ContactGrains.Contracts;
using ContactGrains.Grains;
using ContactGrains.Grains.Routing;
using Grpc.Core;
using Proto = ContactGrains.Protos.V1;

namespace ContactGrains.Silo.Agents;

/// <summary>
/// What an agent may serve comes from the server, not from the desktop: each agent's profile is
/// stored with the agent grain (durable on the PostgreSQL profile) and changed by supervisors
/// (<c>SetAgentProfile</c>). <c>ContactGrains:AgentDirectory</c> seeds it for an agent's first
/// sign-in. Only a silo that accepts development credentials lets a desktop declare its own.
/// </summary>
public sealed class AgentDirectory(IReadOnlyDictionary<string, AgentProfile> seeds, bool desktopsDeclareProfiles)
{
    public const string SectionName = "ContactGrains:AgentDirectory";

    public bool DesktopsDeclareProfiles => desktopsDeclareProfiles;

    /// <summary>
    /// The profile to sign the agent in with: null keeps the stored one. Throws FAILED_PRECONDITION
    /// for an agent the directory does not know (when desktops may not declare themselves).
    /// </summary>
    public async Task<AgentProfile?> ForConnectAsync(IGrainFactory grains, string agentId, Func<AgentProfile?> declared)
    {
        if (desktopsDeclareProfiles && declared() is { } own)
        {
            return own;
        }

        if (await grains.Get<IAgentGrain>(agentId).GetProfile() is not null)
        {
            return null;
        }

        if (seeds.TryGetValue(agentId, out var seed))
        {
            return seed;
        }

        // With self-declared profiles the agent grain says what a first sign-in needs.
        return desktopsDeclareProfiles
            ? null
            : throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"Agent '{agentId}' is not in the agent directory: a supervisor adds them (SetAgentProfile), or {SectionName} lists them."));
    }

    /// <summary>One agent of <c>ContactGrains:AgentDirectory</c>, keyed by agent id.</summary>
    public sealed class Entry
    {
        public string DisplayName { get; set; } = "";

        /// <summary>Skill to proficiency, 1 (novice) to 5 (expert), e.g. "billing": 4.</summary>
        public Dictionary<string, int> Skills { get; set; } = new(StringComparer.Ordinal);

        public List<string> Languages { get; set; } = [];

        /// <summary>Conversations at once; 0 for the routing default.</summary>
        public int Capacity { get; set; }

        /// <summary>Per-channel capacity, e.g. "whatsapp": 2.</summary>
        public Dictionary<string, int> CapacityByChannel { get; set; } = new(StringComparer.Ordinal);

        public Proto.AgentProfile ToProto()
        {
            var profile = new Proto.AgentProfile { DisplayName = DisplayName, DefaultCapacity = (uint)Math.Max(Capacity, 0) };
            profile.Skills.Add(Skills.Select(s => new Proto.SkillLevel { Skill = s.Key, Proficiency = (uint)Math.Max(s.Value, 0) }));
            profile.Languages.Add(Languages);
            profile.Capacity.Add(CapacityByChannel.Select(c => new Proto.ChannelCapacity { Channel = c.Key, MaxConversations = (uint)Math.Max(c.Value, 0) }));
            return profile;
        }
    }

    /// <summary>The configured seeds, checked like a supervisor's change; the first problem, or the seeds.</summary>
    public static (IReadOnlyDictionary<string, AgentProfile>? Seeds, string? Problem) ReadSeeds(
        IReadOnlyDictionary<string, Entry> entries, RoutingCatalog catalog, RoutingOptions routing)
    {
        var seeds = new Dictionary<string, AgentProfile>(StringComparer.Ordinal);
        foreach (var (agentId, entry) in entries)
        {
            if (!ContactGrains.Client.AgentClient.IsValidAgentId(agentId))
            {
                return (null, $"{SectionName} lists '{agentId}', which is not an agent id ({ContactGrains.Client.AgentClient.AgentIdRule}).");
            }

            try
            {
                seeds[agentId] = AgentMapping.ToDomain(entry.ToProto(), catalog, routing)!;
            }
            catch (RpcException ex)
            {
                return (null, $"{SectionName}:{agentId}: {ex.Status.Detail}");
            }
        }

        return (seeds, null);
    }
}
