//! Well-formed examples of every stanza and payload confab parses (after
//! the XEPs' own examples), the starting points the generator mutates.
//! `{room}`, `{nick}`, … are filled from the test world (`mod.rs`).

/// Stanzas as they come from the network.
pub const STANZAS: &[&str] = &[
    // ---- MUC presence (XEP-0045) ----
    "<presence from='{room}/{nick}' to='{mefull}'><show>away</show><status>{text}</status><priority>5</priority>
       <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant' jid='{contact}/r'/></x>
       <occupant-id xmlns='urn:xmpp:occupant-id:0' id='{sid}'/>
       <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/></presence>",
    "<presence from='{room}/{own}'><x xmlns='http://jabber.org/protocol/muc#user'>
       <item affiliation='owner' role='moderator'/><status code='110'/><status code='201'/><status code='100'/><status code='170'/><status code='210'/></x></presence>",
    "<presence from='{room}/{nick}' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>
       <item affiliation='member' role='participant' nick='{nick}2'/><status code='303'/></x></presence>",
    "<presence from='{room}/{nick}' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>
       <item affiliation='outcast' role='none'><actor nick='{own}' jid='{me}'/><reason>{text}</reason></item>
       <status code='301'/><status code='307'/><status code='321'/><status code='322'/><status code='332'/></x></presence>",
    "<presence from='{room}/{own}' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>
       <item affiliation='none' role='none'/><status code='110'/><destroy jid='{room2}' password='p'><reason>{text}</reason></destroy></x></presence>",
    "<presence from='{room}/{nick}' type='error'><x xmlns='http://jabber.org/protocol/muc'/>
       <error type='cancel' by='{room}'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>{text}</text></error></presence>",
    "<presence from='{room}/{nick}'/>",
    "<presence from='{room}/{nick}' type='unavailable'/>",
    // ---- Contacts: subscriptions, presence (RFC 6121), XEP-0194 notify ----
    "<presence from='{contact}' type='subscribe'><nick xmlns='http://jabber.org/protocol/nick'>{text}</nick><status>{text}</status></presence>",
    "<presence from='{stranger}' type='subscribed'/>",
    "<presence from='{contact}' type='unsubscribe'/>",
    "<presence from='{contact}' type='unsubscribed'/>",
    "<presence from='{contact}/phone'><show>dnd</show><status>{text}</status><priority>-1</priority></presence>",
    "<presence from='{stranger}/x' type='probe'/>",
    // ---- Messages: MUC (XEP-0045, 0359, 0421, 0203, 0308) ----
    "<message from='{room}/{nick}' type='groupchat' id='{id}'><body>{text}</body>
       <stanza-id xmlns='urn:xmpp:sid:0' id='{sid}' by='{room}'/><origin-id xmlns='urn:xmpp:sid:0' id='{id}'/>
       <occupant-id xmlns='urn:xmpp:occupant-id:0' id='{sid}'/></message>",
    "<message from='{room}/{nick}' type='groupchat'><body>{text}</body><delay xmlns='urn:xmpp:delay' from='{room}' stamp='{stamp}'/></message>",
    "<message from='{room}/{own}' type='groupchat' id='{id}'><body>{text}</body></message>",
    "<message from='{room}/{nick}' type='groupchat'><subject>{text}</subject></message>",
    "<message from='{room}' type='groupchat'><body>{text}</body></message>",
    "<message from='{room}/{nick}' type='groupchat' id='{id}'><body>{text}</body>
       <replace xmlns='urn:xmpp:message-correct:0' id='{id}'/><stanza-id xmlns='urn:xmpp:sid:0' id='{sid}' by='{room}'/></message>",
    "<message from='{room}/{nick}' type='chat'><body>{text}</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>",
    "<message from='{room}' type='groupchat'><x xmlns='http://jabber.org/protocol/muc#user'><status code='104'/><status code='172'/></x></message>",
    // ---- Chat states (XEP-0085) ----
    "<message from='{room}/{nick}' type='groupchat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
    "<message from='{room}/{own}' type='groupchat'><paused xmlns='http://jabber.org/protocol/chatstates'/></message>",
    "<message from='{contact}/phone' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
    "<message from='{stranger}' type='chat'><gone xmlns='http://jabber.org/protocol/chatstates'/></message>",
    // ---- Reactions, replies, retraction, moderation (XEP-0444/0461/0424/0425) ----
    "<message from='{room}/{nick}' type='groupchat' id='{id}'><reactions xmlns='urn:xmpp:reactions:0' id='{sid}'>
       <reaction>{text}</reaction><reaction>👍</reaction></reactions><store xmlns='urn:xmpp:hints'/>
       <occupant-id xmlns='urn:xmpp:occupant-id:0' id='{sid}'/></message>",
    "<message from='{contact}/phone' type='chat' id='{id}'><reactions xmlns='urn:xmpp:reactions:0' id='{id}'><reaction>{text}</reaction></reactions></message>",
    "<message from='{room}/{nick}' type='groupchat' id='{id}'><body>&gt; {nick} wrote:\n&gt; {text}\n{text}</body>
       <reply xmlns='urn:xmpp:reply:0' to='{room}/{nick}' id='{sid}'/>
       <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='12'/></fallback>
       <stanza-id xmlns='urn:xmpp:sid:0' id='{id}' by='{room}'/></message>",
    "<message from='{contact}/phone' type='chat' id='{id}'><body>{text}</body><reply xmlns='urn:xmpp:reply:0' id='{id}'/>
       <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='3' end='99'/></fallback></message>",
    "<message from='{room}/{nick}' type='groupchat' id='{id}'><retract xmlns='urn:xmpp:message-retract:1' id='{sid}'/>
       <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/><body>{text}</body></message>",
    "<message from='{room}' type='groupchat' id='{id}'><retract xmlns='urn:xmpp:message-retract:1' id='{sid}'>
       <moderated xmlns='urn:xmpp:message-moderate:1' by='{room}/{nick}'><occupant-id xmlns='urn:xmpp:occupant-id:0' id='{sid}'/></moderated>
       <reason>{text}</reason></retract></message>",
    "<message from='{room}' type='groupchat' id='{id}'><apply-to xmlns='urn:xmpp:fasten:0' id='{sid}'>
       <moderated xmlns='urn:xmpp:message-moderate:0' by='{room}/{nick}'><retract xmlns='urn:xmpp:message-retract:0'/><reason>{text}</reason></moderated></apply-to></message>",
    "<message from='{room}/{nick}' type='groupchat' id='{id}'><moderated xmlns='urn:xmpp:message-moderate:0' by='{text}'>
       <retracted xmlns='urn:xmpp:message-retract:0' stamp='{stamp}'/><reason>{text}</reason></moderated></message>",
    "<message from='{contact}/phone' type='chat' id='{id}'><retract xmlns='urn:xmpp:message-retract:1' id='{id}'/></message>",
    // ---- One-to-one ----
    "<message from='{contact}/phone' type='chat' id='{id}'><body>{text}</body><thread>t</thread>
       <delay xmlns='urn:xmpp:delay' stamp='{stamp}'/></message>",
    "<message from='{stranger}' type='normal'><subject>{text}</subject><body>{text}</body></message>",
    "<message from='{stranger}' type='headline'><body>{text}</body></message>",
    "<message from='{server}'><body>{text}</body></message>",
    // ---- Errors ----
    "<message from='{room}' type='error' id='{id}'><body>{text}</body>
       <error type='modify' by='{room}'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
       <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>{text}</text></error></message>",
    "<message from='{stranger}' type='error' id='{id}'><error type='cancel' code='503'/></message>",
    // ---- Voice requests (XEP-0045 §7.13) ----
    "<message from='{room}'><x xmlns='jabber:x:data' type='form'>
       <field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>
       <field var='muc#role' type='list-single'><value>participant</value></field>
       <field var='muc#jid' type='jid-single'><value>{contact}/r</value></field>
       <field var='muc#roomnick' type='text-single'><value>{nick}</value></field>
       <field var='muc#request_allow' type='boolean'><value>false</value></field></x></message>",
    // ---- Invitations (XEP-0249, XEP-0045 mediated, legacy) ----
    "<message from='{contact}/r'><x xmlns='jabber:x:conference' jid='{room2}' password='p' reason='{text}' continue='true' thread='t'/></message>",
    "<message from='{room2}'><x xmlns='http://jabber.org/protocol/muc#user'>
       <invite from='{contact}/r'><reason>{text}</reason><continue thread='t'/></invite><password>p</password></x>
       <x xmlns='jabber:x:conference' jid='{room2}'/></message>",
    "<message from='{room}'><x xmlns='http://jabber.org/protocol/muc#user'><decline from='{contact}'><reason>{text}</reason></decline></x></message>",
    // ---- XEP-0194 chatting events (PEP) ----
    "<message from='{contact}' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>
       <items node='urn:xmpp:chatting:0'><item id='{room}'><room xmlns='urn:xmpp:chatting:0'>
       <name>{text}</name><topic>{text}</topic><uri>xmpp:{room}?join</uri></room></item>
       <retract id='{room2}'/></items></event></message>",
    // ---- XEP-0384 OMEMO device list pushes (PEP, both versions) ----
    "<message from='{contact}' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>
       <items node='urn:xmpp:omemo:2:devices'><item id='current'><devices xmlns='urn:xmpp:omemo:2'>
       <device id='{id}' label='{text}'/><device id='7'/></devices></item></items></event></message>",
    "<message from='{contact}'><event xmlns='http://jabber.org/protocol/pubsub#event'>
       <items node='eu.siacs.conversations.axolotl.devicelist'><item id='current'><list xmlns='eu.siacs.conversations.axolotl'>
       <device id='{id}'/></list></item></items></event></message>",
    // ---- XEP-0313 results (also as the session delivers forged ones) ----
    "<message from='{room}' to='{mefull}'><result xmlns='urn:xmpp:mam:2' queryid='{qid}' id='{sid}'>
       <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='{stamp}'/>
       <message xmlns='jabber:client' from='{room}/{nick}' type='groupchat' id='{id}'><body>{text}</body>
       <replace xmlns='urn:xmpp:message-correct:0' id='{id}'/></message></forwarded></result></message>",
    // ---- XEP-0280 carbons (from our account; forged from a contact) ----
    "<message from='{me}' to='{mefull}' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>
       <message xmlns='jabber:client' from='{contact}/phone' to='{me}/other' type='chat' id='{id}'><body>{text}</body>
       <stanza-id xmlns='urn:xmpp:sid:0' id='{sid}' by='{me}'/></message></forwarded></received></message>",
    "<message from='{me}' to='{mefull}'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>
       <delay xmlns='urn:xmpp:delay' stamp='{stamp}'/>
       <message xmlns='jabber:client' from='{me}/other' to='{room}/{nick}' type='chat' id='{id}'><body>{text}</body>
       <x xmlns='http://jabber.org/protocol/muc#user'/></message></forwarded></sent></message>",
    "<message from='{contact}/r' to='{mefull}'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>
       <message xmlns='jabber:client' from='{me}/other' to='{contact}' type='chat'><body>{text}</body></message></forwarded></sent></message>",
    // ---- XEP-0313 results of our account's archive ----
    "<message to='{mefull}'><result xmlns='urn:xmpp:mam:2' queryid='{qid}' id='{sid}'>
       <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='{stamp}'/>
       <message xmlns='jabber:client' from='{me}/other' to='{contact}' type='chat' id='{id}'><body>{text}</body></message>
       </forwarded></result></message>",
    // ---- IQ requests ----
    "<iq from='{me}' type='set' id='{id}'><query xmlns='jabber:iq:roster' ver='v1'>
       <item jid='{contact}' name='{text}' subscription='both' ask='subscribe'><group>{text}</group><group>g</group></item>
       <item jid='{stranger}' subscription='remove'/></query></iq>",
    "<iq from='{room}' type='set' id='{id}'><query xmlns='jabber:iq:browse'>
       <item jid='{room}/a32d' name='{nick}' category='user' type='client'/><item jid='{room}/b' category='user'/></query></iq>",
    "<iq from='{room}/focus' type='set' id='{id}'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='{sid}' initiator='{room}/focus'>
       <content creator='initiator' name='audio' senders='both'>
       <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio' ssrc='1'>
       <payload-type id='111' name='opus' clockrate='48000' channels='2'><parameter name='useinbandfec' value='1'/></payload-type><rtcp-mux/></description>
       <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='u' pwd='p'>
       <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>AB:CD:EF</fingerprint>
       <candidate component='1' foundation='1' generation='0' id='c1' ip='127.0.0.1' port='5000' priority='1' protocol='udp' type='host'/></transport></content>
       <group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'><content name='audio'/></group>
       <conference-info xmlns='urn:xmpp:coin:1' isfocus='true'/></jingle></iq>",
    "<iq from='{room}/focus' type='set' id='{id}'><jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='{sid}'>
       <reason><success/><text>{text}</text></reason></jingle></iq>",
    "<iq from='{room}/focus' type='set' id='{id}'><jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='{sid}'>
       <content creator='initiator' name='audio'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='u' pwd='p'>
       <candidate component='1' foundation='1' generation='0' id='c2' ip='::1' port='70000' priority='-5' protocol='tcp' type='relay'/></transport></content></jingle></iq>",
    "<iq from='{room}/focus' type='set' id='{id}'><jingle xmlns='urn:xmpp:jingle:1' action='frobnicate' sid='{sid}'/></iq>",
    "<iq from='{stranger}' type='get' id='{id}'><query xmlns='http://jabber.org/protocol/disco#info' node='n'/></iq>",
    "<iq from='{room}' type='get' id='{id}'><ping xmlns='urn:xmpp:ping'/></iq>",
    "<iq from='{stranger}' type='set' id='{id}'><command xmlns='http://jabber.org/protocol/commands' node='x' action='execute'/></iq>",
    "<iq from='{stranger}' type='get' id='{id}'><query xmlns='jabber:iq:version'/></iq>",
    "<iq from='{room}' type='set' id='{id}'><query xmlns='jabber:iq:conference'><nick>{nick}</nick><secret/></query></iq>",
    // ---- IQ answers (to whatever the app asked; see ANSWERS) ----
    "<iq from='{room}' type='result' id='{id}'/>",
    "<iq from='{room}' type='error' id='{id}'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
       <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>{text}</text></error></iq>",
];

/// Payloads of IQ results, for the requests the app makes (picked by the
/// namespace of the request's payload).
pub const ANSWERS: &[&str] = &[
    "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text' name='{text}'/>
       <identity category='account' type='registered'/>
       <feature var='http://jabber.org/protocol/muc'/><feature var='urn:xmpp:mam:2'/><feature var='muc_membersonly'/>
       <feature var='urn:xmpp:bookmarks:1#compat'/><feature var='urn:xmpp:jingle:av-conferences:0'/><feature var='muc_passwordprotected'/>
       <x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roominfo</value></field>
       <field var='muc#roominfo_description' label='{text}'><value>{text}</value></field>
       <field var='muc#roominfo_occupants'><value>3</value></field><field var='muc#roominfo_lang'><value>en</value></field></x></query>",
    "<query xmlns='http://jabber.org/protocol/disco#items'><item jid='{room}' name='{text}'/><item jid='{room2}'/>
       <item jid='{server}' node='n'/>
       <set xmlns='http://jabber.org/protocol/rsm'><first index='0'>{room}</first><last>{room2}</last><count>1000</count></set></query>",
    "<query xmlns='jabber:iq:roster' ver='v2'><item jid='{contact}' name='{text}' subscription='to'><group>{text}</group></item>
       <item jid='{stranger}' subscription='none' ask='subscribe'/></query>",
    "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'><item id='{room}'>
       <conference xmlns='urn:xmpp:bookmarks:1' name='{text}' autojoin='true'><nick>{nick}</nick><password>p</password>
       <extensions><x xmlns='urn:example'/></extensions></conference></item><item id='not a jid'/></items></pubsub>",
    "<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'>
       <conference jid='{room}' name='{text}' autojoin='1'><nick>{nick}</nick><password>p</password></conference>
       <url name='u' url='http://x'/></storage></query>",
    "<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member' jid='{contact}' nick='{nick}' role='participant'>
       <reason>{text}</reason></item><item affiliation='outcast' jid='{stranger}'/></query>",
    "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='form'><title>{text}</title>
       <instructions>{text}</instructions>
       <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>
       <field var='muc#roomconfig_roomname' type='text-single' label='{text}'><value>{text}</value></field>
       <field var='muc#roomconfig_whois' type='list-single'><option label='{text}'><value>anyone</value></option><value>moderators</value></field>
       <field var='muc#roomconfig_roomadmins' type='jid-multi'><value>{contact}</value></field>
       <field var='muc#roomconfig_persistentroom' type='boolean'><value>1</value></field>
       <field var='f' type='fixed'><value>{text}</value></field><field var='s' type='text-private'/></x></query>",
    "<command xmlns='http://jabber.org/protocol/commands' node='urn:xmpp:av-conferences:config' sessionid='{sid}' status='executing'>
       <actions execute='complete'><complete/><next/></actions><note type='warn'>{text}</note>
       <x xmlns='jabber:x:data' type='form'><field var='max-participants' type='text-single' label='{text}'><value>10</value></field></x></command>",
    "<result xmlns='urn:xmpp:channel-search:0:search'><item address='{room}'><name>{text}</name><description>{text}</description>
       <nusers>3</nusers><is-open/><language>en</language><service-type>xep-0045</service-type><anonymity-mode>semi</anonymity-mode></item>
       <set xmlns='http://jabber.org/protocol/rsm'><first>a</first><last>b</last><count>2</count></set></result>",
    "<query xmlns='jabber:iq:conference'><nick>{nick}</nick><secret/><privacy/><name>{text}</name><id>{room}/a32d</id></query>",
    "<query xmlns='jabber:iq:browse' jid='{room}' category='conference' name='{text}'>
       <item jid='{room}/a32d' name='{nick}' category='user' type='client'/><ns>jabber:iq:conference</ns></query>",
    "<conference xmlns='http://jitsi.org/protocol/focus' ready='true' focusjid='focus@auth.localhost/focus' room='{room}'>
       <property name='vnode' value='{text}'/><property name='authentication' value='false'/></conference>",
    "<fin xmlns='urn:xmpp:mam:2' complete='true' stable='false'><set xmlns='http://jabber.org/protocol/rsm'>
       <first index='0'>{sid}</first><last>{sid}</last><count>5000</count></set></fin>",
    "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:chatting:0'><item id='{room}'/></publish></pubsub>",
];
