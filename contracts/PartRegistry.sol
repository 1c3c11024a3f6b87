// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title PartRegistry
/// @notice Every traced physical part is one ERC-721 token. The token id is derived from the
///         part's stable string id, so any party can compute it off chain and a retried mint
///         can never create a second token for the same part.
/// @dev Each participant signs its own transactions: the chain, not an operator key, decides who
///      may register, certify, move, bundle, assemble or retire a part.
contract PartRegistry is ERC721, AccessControl {
    /// @notice Participants allowed to register parts (granted by the admin).
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Certifiers whose certificates the network accepts (granted and revoked by the admin).
    bytes32 public constant CERTIFIER_ROLE = keccak256("CERTIFIER_ROLE");

    struct Part {
        string partId;
        bytes32 metadataHash;
        uint64 registeredAt;
    }

    /// @notice A certificate anchored to a part: the hash of its document, who issued it, until when.
    struct Certificate {
        bytes32 kind; // keccak256 of the kind's name
        bytes32 documentHash;
        address issuer;
        uint64 validUntil; // 0 = no expiry
        uint64 attachedAt;
    }

    mapping(uint256 => Part) private _parts;
    mapping(uint256 => uint256[]) private _sources; // token => parts it was made from
    mapping(uint256 => Certificate[]) private _certificates;
    mapping(uint256 => mapping(bytes32 => bool)) private _hasCertificate; // token => document hash
    mapping(uint256 => mapping(bytes32 => bool)) private _recorded; // token => event hash
    mapping(uint256 => bool) private _decommissioned;

    /// @notice The bundle a part sits in (0 = none), and each bundle's contents.
    mapping(uint256 => uint256) public bundleOf;
    mapping(uint256 => uint256[]) private _contents;
    mapping(uint256 => uint256) private _contentIndex; // child => index in its bundle's contents

    /// @notice The product a part was assembled into (0 = none), and each product's components.
    mapping(uint256 => uint256) public assembledInto;
    mapping(uint256 => uint256[]) private _components;

    /// @dev Set while a bundle's move carries its contents along.
    bool private _movingContents;

    /// @notice Emitted once per part, when its token is minted.
    event PartRegistered(uint256 indexed tokenId, string partId, address indexed owner, bytes32 metadataHash);
    /// @notice Emitted with PartRegistered when a part is made from other parts (its provenance).
    event PartDerived(uint256 indexed tokenId, uint256[] sources);
    /// @notice `kind` is given in clear so readers need not know the name behind `kindHash`.
    event CertificateAttached(
        uint256 indexed tokenId,
        bytes32 indexed kindHash,
        string kind,
        bytes32 documentHash,
        address indexed issuer,
        uint64 validUntil
    );
    event PartEventRecorded(uint256 indexed tokenId, bytes32 indexed eventType, bytes32 eventHash);
    event Bundled(uint256 indexed bundleId, uint256 indexed tokenId);
    event Unbundled(uint256 indexed bundleId, uint256 indexed tokenId);
    event Assembled(uint256 indexed productId, uint256[] components);
    event Decommissioned(uint256 indexed tokenId, address indexed holder);
    /// @notice One item of a `batch` reverted (its effects undone); the other items went on.
    event BatchItemFailed(uint256 index, bytes reason);

    error PartAlreadyRegistered(uint256 tokenId, string partId);
    error EmptyPartId();
    error CertificateAlreadyAttached(uint256 tokenId, bytes32 documentHash);
    error CertificateExpired(uint64 validUntil);
    error EventAlreadyRecorded(uint256 tokenId, bytes32 eventHash);
    error PartIsBundled(uint256 tokenId, uint256 bundleId);
    error PartNotBundled(uint256 tokenId);
    error PartIsAssembled(uint256 tokenId, uint256 productId);
    error PartIsDecommissioned(uint256 tokenId);
    error BundleCycle(uint256 bundleId, uint256 tokenId);
    error BundleNotEmpty(uint256 bundleId);
    error HolderMismatch(uint256 tokenId, address holder, address expected);
    error NotHolder(uint256 tokenId, address caller);
    error NoComponents();
    error ApprovalsDisabled();

    constructor(address admin) ERC721("Tracewell Part", "PART") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, admin);
    }

    /// @dev Reverts unless `msg.sender` holds `tokenId`; returns the holder.
    function _requireHolder(uint256 tokenId) private view returns (address holder) {
        holder = _requireOwned(tokenId);
        if (holder != msg.sender) revert NotHolder(tokenId, msg.sender);
    }

    /// @notice The token id of a part: keccak256 of its UTF-8 id.
    function tokenIdOf(string calldata partId) public pure returns (uint256) {
        return uint256(keccak256(bytes(partId)));
    }

    /// @notice Mints the token of `partId` to the caller: a participant registers its own parts.
    ///         `sources` are the parts it is made from (one lot → many wafers), which the caller
    ///         must hold; they are not consumed, so one source can feed many parts.
    function register(string calldata partId, bytes32 metadataHash, uint256[] calldata sources)
        external
        onlyRole(REGISTRAR_ROLE)
        returns (uint256 tokenId)
    {
        if (bytes(partId).length == 0) revert EmptyPartId();
        tokenId = tokenIdOf(partId);
        if (_ownerOf(tokenId) != address(0)) revert PartAlreadyRegistered(tokenId, partId);
        for (uint256 i = 0; i < sources.length; i++) {
            uint256 source = sources[i];
            _requireHolder(source);
            if (_decommissioned[source]) revert PartIsDecommissioned(source);
        }
        _parts[tokenId] = Part(partId, metadataHash, uint64(block.timestamp));
        if (sources.length > 0) _sources[tokenId] = sources;
        _safeMint(msg.sender, tokenId);
        emit PartRegistered(tokenId, partId, msg.sender, metadataHash);
        if (sources.length > 0) emit PartDerived(tokenId, sources);
    }

    /// @notice Runs many calls to this contract in one transaction, each as if sent alone by the
    ///         caller (delegatecall keeps `msg.sender`, so every holder and role rule holds). An item
    ///         that reverts is undone alone: `BatchItemFailed` names it with its revert data, and
    ///         the rest go on. Each item emits exactly the events it emits when sent alone.
    function batch(bytes[] calldata calls) external {
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory reason) = address(this).delegatecall(calls[i]);
            if (!ok) emit BatchItemFailed(i, reason);
        }
    }

    /// @notice True when the part's token exists.
    function exists(uint256 tokenId) external view returns (bool) {
        return _ownerOf(tokenId) != address(0);
    }

    /// @notice The registered record of a token (reverts for an unknown token).
    function partOf(uint256 tokenId) external view returns (Part memory) {
        _requireOwned(tokenId);
        return _parts[tokenId];
    }

    /// @notice The parts `tokenId` was made from (empty for a raw part).
    function sourcesOf(uint256 tokenId) external view returns (uint256[] memory) {
        return _sources[tokenId];
    }

    /// @notice True when `account` is a certifier the network currently accepts.
    function isAcceptedCertifier(address account) external view returns (bool) {
        return hasRole(CERTIFIER_ROLE, account);
    }

    /// @notice Anchors a certificate's document hash to a part, issued by the calling certifier.
    ///         A document is attached once per part; an already expired one is refused.
    function attachCertificate(uint256 tokenId, string calldata kind, bytes32 documentHash, uint64 validUntil)
        external
        onlyRole(CERTIFIER_ROLE)
    {
        _requireOwned(tokenId);
        if (validUntil != 0 && validUntil <= block.timestamp) revert CertificateExpired(validUntil);
        if (_hasCertificate[tokenId][documentHash]) revert CertificateAlreadyAttached(tokenId, documentHash);
        _hasCertificate[tokenId][documentHash] = true;
        bytes32 kindHash = keccak256(bytes(kind));
        _certificates[tokenId].push(Certificate(kindHash, documentHash, msg.sender, validUntil, uint64(block.timestamp)));
        emit CertificateAttached(tokenId, kindHash, kind, documentHash, msg.sender, validUntil);
    }

    function certificatesOf(uint256 tokenId) external view returns (Certificate[] memory) {
        return _certificates[tokenId];
    }

    function hasCertificate(uint256 tokenId, bytes32 documentHash) external view returns (bool) {
        return _hasCertificate[tokenId][documentHash];
    }

    /// @notice Anchors the hash of an event in a part's life (e.g. a process record). Only the
    ///         holder speaks for its part; once per hash.
    function recordEvent(uint256 tokenId, bytes32 eventType, bytes32 eventHash) external {
        _requireHolder(tokenId);
        if (_recorded[tokenId][eventHash]) revert EventAlreadyRecorded(tokenId, eventHash);
        _recorded[tokenId][eventHash] = true;
        emit PartEventRecorded(tokenId, eventType, eventHash);
    }

    function isRecorded(uint256 tokenId, bytes32 eventHash) external view returns (bool) {
        return _recorded[tokenId][eventHash];
    }

    /// @notice Puts a part into a bundle, both held by the caller. From then on the part moves
    ///         only with its bundle.
    function bundle(uint256 bundleId, uint256 tokenId) external {
        address holder = _requireHolder(bundleId);
        address childHolder = _requireOwned(tokenId);
        if (childHolder != holder) revert HolderMismatch(tokenId, childHolder, holder);
        if (_decommissioned[bundleId]) revert PartIsDecommissioned(bundleId);
        if (_decommissioned[tokenId]) revert PartIsDecommissioned(tokenId);
        if (bundleOf[tokenId] != 0) revert PartIsBundled(tokenId, bundleOf[tokenId]);
        if (assembledInto[tokenId] != 0) revert PartIsAssembled(tokenId, assembledInto[tokenId]);
        if (assembledInto[bundleId] != 0) revert PartIsAssembled(bundleId, assembledInto[bundleId]);
        for (uint256 up = bundleId; up != 0; up = bundleOf[up]) {
            if (up == tokenId) revert BundleCycle(bundleId, tokenId);
        }
        bundleOf[tokenId] = bundleId;
        _contentIndex[tokenId] = _contents[bundleId].length;
        _contents[bundleId].push(tokenId);
        emit Bundled(bundleId, tokenId);
    }

    /// @notice Takes a part out of its bundle (by the bundle's holder); it stays with that holder.
    function unbundle(uint256 tokenId) external {
        uint256 bundleId = bundleOf[tokenId];
        if (bundleId == 0) revert PartNotBundled(tokenId);
        _requireHolder(bundleId);
        uint256[] storage contents = _contents[bundleId];
        uint256 index = _contentIndex[tokenId];
        uint256 last = contents[contents.length - 1];
        contents[index] = last;
        _contentIndex[last] = index;
        contents.pop();
        delete _contentIndex[tokenId];
        delete bundleOf[tokenId];
        emit Unbundled(bundleId, tokenId);
    }

    function contentsOf(uint256 bundleId) external view returns (uint256[] memory) {
        return _contents[bundleId];
    }

    /// @notice Consumes the caller's parts into its product as components. A consumed part never
    ///         moves again.
    function assemble(uint256 productId, uint256[] calldata components) external {
        address holder = _requireHolder(productId);
        if (components.length == 0) revert NoComponents();
        if (_decommissioned[productId]) revert PartIsDecommissioned(productId);
        if (assembledInto[productId] != 0) revert PartIsAssembled(productId, assembledInto[productId]);
        for (uint256 i = 0; i < components.length; i++) {
            uint256 component = components[i];
            address componentHolder = _requireOwned(component);
            if (component == productId) revert BundleCycle(productId, component);
            if (componentHolder != holder) revert HolderMismatch(component, componentHolder, holder);
            if (_decommissioned[component]) revert PartIsDecommissioned(component);
            if (assembledInto[component] != 0) revert PartIsAssembled(component, assembledInto[component]);
            if (bundleOf[component] != 0) revert PartIsBundled(component, bundleOf[component]);
            assembledInto[component] = productId;
            _components[productId].push(component);
        }
        emit Assembled(productId, components);
    }

    function componentsOf(uint256 productId) external view returns (uint256[] memory) {
        return _components[productId];
    }

    /// @notice Retires a part (scrapped, recycled, lost). The token stays so its provenance remains
    ///         readable, but it never moves again. Unbundle it, and empty it if a bundle, first.
    function decommission(uint256 tokenId) external {
        address holder = _requireHolder(tokenId);
        if (_decommissioned[tokenId]) revert PartIsDecommissioned(tokenId);
        if (bundleOf[tokenId] != 0) revert PartIsBundled(tokenId, bundleOf[tokenId]);
        if (assembledInto[tokenId] != 0) revert PartIsAssembled(tokenId, assembledInto[tokenId]);
        if (_contents[tokenId].length != 0) revert BundleNotEmpty(tokenId);
        _decommissioned[tokenId] = true;
        emit Decommissioned(tokenId, holder);
    }

    function isDecommissioned(uint256 tokenId) external view returns (bool) {
        return _decommissioned[tokenId];
    }

    /// @dev Approvals are disabled so only a part's current holder can ever move it.
    function approve(address, uint256) public pure override {
        revert ApprovalsDisabled();
    }

    /// @dev Approvals are disabled so only a part's current holder can ever move it.
    function setApprovalForAll(address, bool) public pure override {
        revert ApprovalsDisabled();
    }

    /// @dev A retired, bundled or consumed part does not move on its own; a bundle carries its contents.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        if (_decommissioned[tokenId]) revert PartIsDecommissioned(tokenId);
        if (!_movingContents) {
            if (bundleOf[tokenId] != 0) revert PartIsBundled(tokenId, bundleOf[tokenId]);
            if (assembledInto[tokenId] != 0) revert PartIsAssembled(tokenId, assembledInto[tokenId]);
        }
        from = super._update(to, tokenId, auth);
        uint256[] storage contents = _contents[tokenId];
        if (from != address(0) && contents.length > 0) {
            bool outer = _movingContents;
            _movingContents = true;
            for (uint256 i = 0; i < contents.length; i++) {
                _update(to, contents[i], address(0));
            }
            _movingContents = outer;
        }
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
