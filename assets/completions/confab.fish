# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_confab_global_optspecs
    string join \n jid= password-env= server= resolver= ca-file= config= account= search-service= call-service= batch= keep-going no-history connect-timeout= keepalive= ack-timeout= outbox-ttl= self-ping= audio-in= denoise= audio-out= audio-out-dir= print-config check-config log-level= log-file= debug-xml rtc-bind= h/help V/version
end

function __fish_confab_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_confab_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_confab_using_subcommand
    set -l cmd (__fish_confab_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c confab -n "__fish_confab_needs_command" -l jid -d 'Account JID (user@domain); overrides the config\'s account' -r
complete -c confab -n "__fish_confab_needs_command" -l password-env -d 'Read the password from this environment variable' -r
complete -c confab -n "__fish_confab_needs_command" -l server -d 'Connect to this host instead of the JID\'s domain (no DNS SRV discovery)' -r
complete -c confab -n "__fish_confab_needs_command" -l resolver -d 'Ask this DNS server for the domain\'s SRV records (and the targets\' addresses) instead of the system\'s (resolv.conf)' -r
complete -c confab -n "__fish_confab_needs_command" -l ca-file -d 'Also trust the CA certificates in this PEM file' -r -F
complete -c confab -n "__fish_confab_needs_command" -l config -d 'Config file (default: config.toml in the config directory)' -r -F
complete -c confab -n "__fish_confab_needs_command" -l account -d 'Which account of the config file to use' -r
complete -c confab -n "__fish_confab_needs_command" -l search-service -d 'The XEP-0433 channel search service `/search` asks; overrides the account\'s `search_service`' -r
complete -c confab -n "__fish_confab_needs_command" -l call-service -d 'The A/V conference service whose rooms go with text rooms of the same name (`/call` of a text room calls there); overrides the account\'s `call_service`' -r
complete -c confab -n "__fish_confab_needs_command" -l batch -d 'Run commands from FILE (or - for stdin) without the TUI; print events as JSON lines' -r
complete -c confab -n "__fish_confab_needs_command" -l connect-timeout -d 'Seconds to wait for the first connection in --batch' -r
complete -c confab -n "__fish_confab_needs_command" -l keepalive -d 'Seconds of silence before a keep-alive ping; no answer within half as long (at least 1 s) means the connection is dead' -r
complete -c confab -n "__fish_confab_needs_command" -l ack-timeout -d 'Seconds an XEP-0198 ack request (or a write) may go unanswered before the connection counts as dead and is resumed' -r
complete -c confab -n "__fish_confab_needs_command" -l outbox-ttl -d 'Seconds a message may wait for the connection before it is reported as failed' -r
complete -c confab -n "__fish_confab_needs_command" -l self-ping -d 'Seconds of silence from a room before we ping ourselves in it (XEP-0410) to find out whether it silently dropped us' -r
complete -c confab -n "__fish_confab_needs_command" -l audio-in -d 'What calls send: tone:HZ, file:PATH.wav, null, default (the microphone) or device:NAME' -r
complete -c confab -n "__fish_confab_needs_command" -l denoise -d 'Noise suppression of what calls send (RNNoise): auto cleans a microphone, on any source, gate also sends silence while you do not speak, off sends the input as it is (also `/denoise`)' -r -f -a "auto\t''
on\t''
gate\t''
off\t''"
complete -c confab -n "__fish_confab_needs_command" -l audio-out -d 'Where calls play: file:PATH.wav, null, default (the speaker) or device:NAME' -r
complete -c confab -n "__fish_confab_needs_command" -l audio-out-dir -d 'Also record each received stream of a call to its own WAV in DIR, named after its entity' -r -F
complete -c confab -n "__fish_confab_needs_command" -l log-level -d 'How much the log tells: off, error, warn, info (default), debug or trace (with the protocol trace, secrets masked); for confab, other crates stay at warn. Wins over RUST_LOG' -r -f -a "off\t''
error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c confab -n "__fish_confab_needs_command" -l log-file -d 'Write the log to FILE (default: confab.DATE.log in the state directory, a new file each day)' -r -F
complete -c confab -n "__fish_confab_needs_command" -l rtc-bind -d 'Local address for calls\' UDP (ICE host candidates); 0.0.0.0:0 is every interface' -r
complete -c confab -n "__fish_confab_needs_command" -l keep-going -d 'In --batch, go on after a failed command'
complete -c confab -n "__fish_confab_needs_command" -l no-history -d 'Keep no message history on disk'
complete -c confab -n "__fish_confab_needs_command" -l print-config -d 'Print the resolved configuration (the config file, these options, the defaults) as TOML, passwords masked, and exit'
complete -c confab -n "__fish_confab_needs_command" -l check-config -d 'Check the configuration and exit: "OK: FILE" (status 0), or the error with its file:line (status 2)'
complete -c confab -n "__fish_confab_needs_command" -l debug-xml -d 'Show the stanzas in and out from the start, secrets masked (TUI: the XML console; --batch: xml events), like /xmlconsole on'
complete -c confab -n "__fish_confab_needs_command" -s h -l help -d 'Print help'
complete -c confab -n "__fish_confab_needs_command" -s V -l version -d 'Print version'
complete -c confab -n "__fish_confab_needs_command" -f -a "completions" -d 'Print the completion script for SHELL'
complete -c confab -n "__fish_confab_needs_command" -f -a "man" -d 'Print the man page (roff)'
complete -c confab -n "__fish_confab_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c confab -n "__fish_confab_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c confab -n "__fish_confab_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c confab -n "__fish_confab_using_subcommand help; and not __fish_seen_subcommand_from completions man help" -f -a "completions" -d 'Print the completion script for SHELL'
complete -c confab -n "__fish_confab_using_subcommand help; and not __fish_seen_subcommand_from completions man help" -f -a "man" -d 'Print the man page (roff)'
complete -c confab -n "__fish_confab_using_subcommand help; and not __fish_seen_subcommand_from completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
