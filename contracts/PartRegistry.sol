// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title PartRegistry
/// @notice Every traced physical part is one ERC-721 token. The token id is derived from the
///         part's stable string id, so any party can compute it off chain and a retried mint
///         can never create a second token for the same part.
contract PartRegistry is ERC721, AccessControl {
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    struct Part {
        string partId;
        bytes32 metadataHash;
        uint64 registeredAt;
    }

    mapping(uint256 => Part) private _parts;

    /// @notice Emitted once per part, when its token is minted.
    event PartRegistered(uint256 indexed tokenId, string partId, address indexed owner, bytes32 metadataHash);

    error PartAlreadyRegistered(uint256 tokenId, string partId);
    error EmptyPartId();

    constructor(address admin) ERC721("Tracewell Part", "PART") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, admin);
    }

    /// @notice The token id of a part: keccak256 of its UTF-8 id.
    function tokenIdOf(string calldata partId) public pure returns (uint256) {
        return uint256(keccak256(bytes(partId)));
    }

    /// @notice Mints the token of `partId` to `owner`. Reverts if the part already exists.
    function register(string calldata partId, address owner, bytes32 metadataHash)
        external
        onlyRole(REGISTRAR_ROLE)
        returns (uint256 tokenId)
    {
        if (bytes(partId).length == 0) revert EmptyPartId();
        tokenId = tokenIdOf(partId);
        if (_ownerOf(tokenId) != address(0)) revert PartAlreadyRegistered(tokenId, partId);
        _parts[tokenId] = Part(partId, metadataHash, uint64(block.timestamp));
        _safeMint(owner, tokenId);
        emit PartRegistered(tokenId, partId, owner, metadataHash);
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

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
